"""One exception root for the kit, with specific subclasses.

Each subclass also inherits the builtin it resembles (as web3.py does), so ``except ValueError``
still works. Every message says what was expected, what happened, and what to do next. Layers
define their own subclasses of :class:`IexecKitError` next to their code when the error is
theirs alone; the ones shared across layers live here.
"""

from __future__ import annotations


class IexecKitError(Exception):
    """Root of every error the kit raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        expected: str | None = None,
        got: str | None = None,
        hint: str | None = None,
    ):
        self.expected, self.got, self.hint = expected, got, hint
        parts = [message]
        if expected is not None:
            parts.append(f"expected: {expected}")
        if got is not None:
            parts.append(f"got: {got}")
        if hint is not None:
            parts.append(f"what to do: {hint}")
        super().__init__("\n  ".join(parts))


class KitValueError(IexecKitError, ValueError):
    """A value given to the kit is not what it should be."""


class ChainConnectionError(IexecKitError, ConnectionError):
    """The Ethereum node cannot be reached or does not answer as a node should."""


class InsufficientFundsError(IexecKitError, ValueError):
    """An account lacks the ETH or RLC an operation needs."""


class ContractRevertError(IexecKitError, RuntimeError):
    """A contract call reverted; ``reason`` is the raw revert string, ``code`` its kit code."""

    def __init__(self, message: str, *, reason: str = "", code: str | None = None, **kw):
        self.reason, self.code = reason, code
        super().__init__(message, **kw)


class ArtifactError(IexecKitError, FileNotFoundError):
    """A compiled contract artifact is missing or stale."""


class DependencyMissingError(IexecKitError, RuntimeError):
    """An optional tool (Docker, GIMP, node, a Kubo daemon...) is needed but absent."""
