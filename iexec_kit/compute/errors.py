"""Errors of the compute layer (runners, input fetching): each says what was expected, what
happened and what to do next."""

from __future__ import annotations

from iexec_kit.errors import DependencyMissingError, IexecKitError


class ComputeError(IexecKitError, RuntimeError):
    """Root of the compute layer's errors."""


class InputFetchError(IexecKitError, ValueError):
    """An input file (iexec_input_files URL or path) could not be fetched or is not acceptable."""


class InputTooLargeError(InputFetchError):
    """An input file is larger than the runner's input limit."""


class InputUnreachableError(InputFetchError):
    """An input's source did not answer: a connection refused or reset, a connect timeout, HTTP
    502/503/504 (see :func:`~iexec_kit.compute.fetch.unreachable_reason`). Another try later may
    work: a worker retries it for a while (:class:`~iexec_kit.compute.fetch.FetchRetry`).
    ``where`` names the source ("the IPFS gateway at 127.0.0.1:5001"), ``reason`` why, in words.
    """

    def __init__(self, message: str, *, where: str = "", reason: str = "", **kw):
        self.where, self.reason = where, reason
        super().__init__(message, **kw)


class LocalInputRefusedError(InputFetchError):
    """An input names a file of the machine that runs the app, and the fetch policy forbids it
    (a worker serving someone else's deal fetches only remote inputs: http(s), IPFS)."""


class AppNotFoundError(IexecKitError, FileNotFoundError):
    """The app folder, its entrypoint or its Docker image is missing."""


class AppTimeoutError(ComputeError, TimeoutError):
    """The app ran longer than the task's clock (the category's time reference); it was killed."""

    def __init__(self, message: str, *, logs: str = "", **kw):
        self.logs = logs
        super().__init__(message, **kw)


class OutputTooLargeError(ComputeError):
    """The app wrote more than the runner's output limit to $IEXEC_OUT; it was stopped."""

    def __init__(self, message: str, *, logs: str = "", **kw):
        self.logs = logs
        super().__init__(message, **kw)


class AppExecutionError(ComputeError):
    """The app ran but failed: non-zero exit, an error-message, no or a bad computed.json.

    ``result`` is the :class:`~iexec_kit.compute.runner.RunResult` (logs, computed, out_dir).
    """

    def __init__(self, message: str, *, result=None, **kw):
        self.result = result
        super().__init__(message, **kw)


class DockerUnavailableError(DependencyMissingError):
    """No Docker engine answers where the Docker runner looked."""
