"""The result digest of a task, as iExec workers compute it (shared/reference/POCO.md).

- with "callback-data" in computed.json: keccak256 of its bytes;
- else sha256 of the file at "deterministic-output-path";
- for a directory: keccak256 of the concatenated sha256 of its sorted top-level entries (an entry
  that is itself a directory counts by its own digest).

A small local copy for ``iexec-kit app run``'s printout; iexec_kit.storage owns the canonical one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def _keccak(data: bytes) -> bytes:
    from eth_utils import keccak  # lazy: eth_utils is a heavy import

    return keccak(data)


def sha256_file(path: Path) -> bytes:
    """Raw sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.digest()


def path_digest(path: str | Path) -> bytes:
    """Digest of a deterministic output: sha256 of a file; keccak of sorted sha256s for a folder."""
    p = Path(path)
    if p.is_dir():
        parts = [path_digest(e) for e in sorted(p.iterdir(), key=lambda e: e.name)]
        return _keccak(b"".join(parts))
    return sha256_file(p)


def result_digest(computed: dict, deterministic_path: str | Path | None) -> str:
    """The task's result digest as 0x-hex, from computed.json and the host path it points at."""
    if computed.get("callback-data") is not None:
        data = computed["callback-data"]
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) and data.startswith("0x") \
            else str(data).encode()
        return "0x" + _keccak(raw).hex()
    if deterministic_path is None:
        raise ValueError("computed.json has neither callback-data nor deterministic-output-path")
    return "0x" + path_digest(deterministic_path).hex()
