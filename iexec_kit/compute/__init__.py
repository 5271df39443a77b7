"""iexec_kit.compute: run an iExec app on inputs, as a worker does, under the app contract.

Two runners, one interface (``runner.run(app, inputs, args, env, timeout=..., max_output_bytes=...)
-> RunResult``):

- :class:`ProcessRunner` (default): the app folder's entrypoint as a local subprocess;
- :class:`DockerRunner`: the app's image in a container on a Docker engine (docker SDK).

>>> from iexec_kit.compute import ProcessRunner
>>> result = ProcessRunner().run("apps/gimp-cartoon", ["data/chelsea.png"], "--style gimpfu")
>>> result.computed, result.deterministic_path, result.digest()
"""

from __future__ import annotations

from iexec_kit.compute.errors import (
    AppExecutionError,
    AppNotFoundError,
    AppTimeoutError,
    ComputeError,
    DockerUnavailableError,
    InputFetchError,
    InputTooLargeError,
    InputUnreachableError,
    LocalInputRefusedError,
    OutputTooLargeError,
)
from iexec_kit.compute.fetch import FetchedInput, FetchRetry, fetch_inputs
from iexec_kit.compute.runner import Runner, RunResult, load_manifest

__all__ = [
    "AppExecutionError",
    "AppNotFoundError",
    "AppTimeoutError",
    "ComputeError",
    "DockerRunner",
    "DockerUnavailableError",
    "FetchedInput",
    "FetchRetry",
    "InputFetchError",
    "InputUnreachableError",
    "LocalInputRefusedError",
    "InputTooLargeError",
    "OutputTooLargeError",
    "ProcessRunner",
    "RunResult",
    "Runner",
    "fetch_inputs",
    "get_runner",
    "load_manifest",
]


def __getattr__(name):  # PEP 562: the runners load on first use
    if name == "ProcessRunner":
        from iexec_kit.compute.process import ProcessRunner

        return ProcessRunner
    if name == "DockerRunner":
        from iexec_kit.compute.docker_runner import DockerRunner

        return DockerRunner
    raise AttributeError(f"module 'iexec_kit.compute' has no attribute {name!r}")


def get_runner(kind: str = "process", **kw) -> Runner:
    """A runner by name: "process" (default) or "docker"; ``kw`` go to its constructor."""
    if kind == "process":
        from iexec_kit.compute.process import ProcessRunner

        return ProcessRunner(**kw)
    if kind == "docker":
        from iexec_kit.compute.docker_runner import DockerRunner

        return DockerRunner(**kw)
    from iexec_kit.errors import KitValueError

    raise KitValueError(
        f"unknown runner {kind!r}",
        expected="process or docker",
        got=kind,
        hint="use --runner process (default) or --runner docker",
    )
