"""A task's result as PoCo sees it: the digest a worker computes, and what it commits.

- digest: keccak256 of computed.json's ``callback-data`` (0x-hex bytes) when there is one; else
  sha256 of the file at ``deterministic-output-path``; for a folder, keccak256 of the
  concatenated digests of its entries sorted by name (an entry that is itself a folder counts by
  its own digest, the same rule one level down);
- result hash = keccak256(taskid ++ digest): what the consensus is on;
- result seal = keccak256(worker ++ taskid ++ digest): binds a contribution to its worker.

The app names its output as it sees it, under ``/iexec_out``; :func:`output_relpath` maps that
to a path relative to the output folder, wherever the worker keeps it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath

from iexec_kit.errors import KitValueError

IEXEC_OUT = "/iexec_out"
COMPUTED_JSON = "computed.json"


def keccak256(data: bytes) -> bytes:
    """keccak256 (Ethereum's, not SHA3-256) of bytes."""
    from eth_utils import keccak  # lazily: eth_utils is a heavy import

    return keccak(data)


def _hex_bytes(value: str | bytes, size: int | None, what: str) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    else:
        text = value[2:] if isinstance(value, str) and value[:2] in ("0x", "0X") else value
        try:
            raw = bytes.fromhex(text)
        except (TypeError, ValueError):
            raise KitValueError(
                f"{what} is not hex",
                expected="0x followed by hex digits",
                got=repr(value)[:80],
            ) from None
    if size is not None and len(raw) != size:
        raise KitValueError(
            f"{what} must be {size} bytes",
            expected=f"0x + {2 * size} hex digits",
            got=f"{len(raw)} bytes",
        )
    return raw


def sha256_file(path: str | os.PathLike[str]) -> bytes:
    """sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.digest()


def path_digest(path: str | os.PathLike[str]) -> bytes:
    """sha256 of a file; for a folder keccak256 of its entries' digests sorted by name."""
    p = Path(path)
    if p.is_dir():
        entries = sorted(p.iterdir(), key=lambda e: e.name)
        return keccak256(b"".join(path_digest(e) for e in entries))
    return sha256_file(p)


def callback_digest(callback_data: str) -> str:
    """The digest of a callback result: keccak256 of its bytes, which must be 0x-hex."""
    if not (isinstance(callback_data, str) and callback_data[:2] == "0x"):
        raise KitValueError(
            "callback-data must be 0x-prefixed hex (the bytes the callback receives)",
            expected='"0x" followed by hex digits',
            got=repr(callback_data)[:80],
            hint="write callback-data as 0x-hex in computed.json",
        )
    return "0x" + keccak256(_hex_bytes(callback_data, None, "callback-data")).hex()


def output_digest(path: str | os.PathLike[str]) -> str:
    """The digest (0x-hex) of a deterministic output: a file or a folder on this machine."""
    return "0x" + path_digest(path).hex()


def output_relpath(deterministic_output_path: str) -> str:
    """computed.json's deterministic-output-path, relative to the output folder ("." for the
    folder itself). The app writes it as it sees it: ``/iexec_out/x`` or ``x``. A path outside
    ``/iexec_out`` or with a ``..`` step is refused."""
    det = deterministic_output_path
    if not isinstance(det, str) or not det:
        raise KitValueError(
            "deterministic-output-path must be a non-empty path",
            expected=f"a path under {IEXEC_OUT}",
            got=repr(det)[:80],
        )
    pure = PurePosixPath(det)
    if pure.is_absolute():
        try:
            pure = pure.relative_to(IEXEC_OUT)
        except ValueError:
            raise KitValueError(
                "deterministic-output-path is outside the output folder",
                expected=f"a path under {IEXEC_OUT}",
                got=det,
                hint=f"write your output under {IEXEC_OUT} and name it there",
            ) from None
    if ".." in pure.parts:
        raise KitValueError(
            "deterministic-output-path escapes the output folder",
            expected=f"a path under {IEXEC_OUT} without '..'",
            got=det,
        )
    return pure.as_posix()


def app_path(relpath: str) -> str:
    """The path the app sees for a path relative to the output folder (``/iexec_out/...``)."""
    return IEXEC_OUT if relpath in ("", ".") else f"{IEXEC_OUT}/{relpath}"


def result_hash(taskid: str | bytes, digest: str | bytes) -> str:
    """keccak256(taskid ++ digest): the value a worker contributes and the chain's consensus."""
    raw = _hex_bytes(taskid, 32, "taskid") + _hex_bytes(digest, 32, "digest")
    return "0x" + keccak256(raw).hex()


def result_seal(worker: str, taskid: str | bytes, digest: str | bytes) -> str:
    """keccak256(worker ++ taskid ++ digest): binds a contribution to its worker."""
    raw = (
        _hex_bytes(worker, 20, "an address")
        + _hex_bytes(taskid, 32, "taskid")
        + _hex_bytes(digest, 32, "digest")
    )
    return "0x" + keccak256(raw).hex()
