"""iexec-kit: iExec's decentralized off-chain computing (PoCo v5), run for real on one laptop.

Start from a :class:`~iexec_kit.sandbox.Sandbox`: one local network wired together (chain,
protocol contracts, storage, market, workerpool, workers). Heavy parts are imported lazily, so
``import iexec_kit`` stays fast.
"""

__version__ = "0.1.0"

from iexec_kit.errors import IexecKitError  # noqa: E402  (light: no third-party imports)

__all__ = ["IexecKitError", "Sandbox", "__version__"]


def __getattr__(name):  # PEP 562: lazy access to the heavy entry point
    if name == "Sandbox":
        from iexec_kit.sandbox import Sandbox

        return Sandbox
    raise AttributeError(f"module 'iexec_kit' has no attribute {name!r}")
