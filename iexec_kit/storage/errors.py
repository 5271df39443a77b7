"""Errors of the storage layer (IPFS node, results, encryption, result proxy).

Each one subclasses :class:`iexec_kit.errors.IexecKitError` and the builtin it resembles, so
``except ValueError`` or ``except PermissionError`` keeps working for callers that know nothing
of the kit.
"""

from __future__ import annotations

from iexec_kit.errors import IexecKitError


class StorageError(IexecKitError):
    """Root of the storage layer's errors."""


class InvalidCidError(StorageError, ValueError):
    """A string or bytes that should be a CID is not one (or not one the node supports)."""


class BlockNotFoundError(StorageError, KeyError):
    """A block the node needs is not in its blockstore."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return Exception.__str__(self)


class CorruptBlockError(StorageError, IOError):
    """A block read from disk does not hash to its CID: the node refuses to serve it."""


class UnixfsError(StorageError, ValueError):
    """A dag-pb node or UnixFS message is malformed, or is not the kind the call expects."""


class DagBudgetError(UnixfsError):
    """A DAG walk went past its budget of blocks or seconds (a DAG built to be expensive)."""


class PathEscapeError(StorageError, ValueError):
    """A path would write or read outside the folder it must stay in (zip slip, '..')."""


class KuboApiError(StorageError, ConnectionError):
    """A Kubo RPC API (the kit's or a real daemon's) refused a call or cannot be reached."""


class ResultError(StorageError, ValueError):
    """A task's output (computed.json, deterministic output, result archive) is not valid."""


class EncryptionError(StorageError, ValueError):
    """A result cannot be encrypted or decrypted with the keys given."""


class ProxyAuthError(StorageError, PermissionError):
    """The result proxy refused a challenge, a signature or a token."""


class UploadRejectedError(StorageError, PermissionError):
    """The result proxy refused an upload (task state, worker, hash, size)."""


class ResultNotFoundError(StorageError, FileNotFoundError):
    """The result proxy has no result for this task."""


class ApiArgumentError(StorageError, ValueError):
    """An HTTP API call carried an argument of the wrong form (a 400, never a 500)."""


class DestinationExistsError(StorageError, FileExistsError):
    """A download would replace something already on disk (``get`` without ``force``)."""
