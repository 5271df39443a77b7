"""Blockstores: where the node keeps blocks, keyed by multihash as Kubo's flatfs does.

Every read re-hashes the block and compares it with the CID's digest, so a corrupted file on
disk raises CorruptBlockError instead of serving bad data. Writes go to a temporary file and
are renamed into place, so a block file is either absent or complete.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from iexec_kit.storage import messages as M
from iexec_kit.storage.cids import Cid
from iexec_kit.storage.errors import BlockNotFoundError, CorruptBlockError


class Blockstore(Protocol):
    """What the UnixFS code needs from a store of blocks."""

    def put(self, cid: Cid, block: bytes) -> None: ...

    def get(self, cid: Cid) -> bytes: ...

    def has(self, cid: Cid) -> bool: ...

    def size(self, cid: Cid) -> int: ...


def _verify(cid: Cid, block: bytes) -> bytes:
    if hashlib.sha256(block).digest() != cid.digest:
        raise CorruptBlockError(
            M.BLOCK_CORRUPT,
            expected=f"sha2-256 {cid.digest.hex()}",
            got=f"sha2-256 {hashlib.sha256(block).hexdigest()} for {cid}",
            hint=M.HINT_CORRUPT,
        )
    return block


class FlatfsBlockstore:
    """Blocks as files ``blocks/<XY>/<BASE32 multihash>.data`` under a repo folder (Kubo's layout:
    the shard folder is the next-to-last two characters of the key)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(cid: Cid) -> str:
        """The flatfs key of a block: RFC 4648 base32 (upper, no padding) of its multihash."""
        return base64.b32encode(cid.multihash).decode().rstrip("=")

    def path(self, cid: Cid) -> Path:
        key = self.key(cid)
        return self.root / key[-3:-1] / f"{key}.data"

    def has(self, cid: Cid) -> bool:
        return self.path(cid).is_file()

    def put(self, cid: Cid, block: bytes) -> None:
        target = self.path(cid)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(block)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def get(self, cid: Cid) -> bytes:
        try:
            block = self.path(cid).read_bytes()
        except FileNotFoundError:
            raise BlockNotFoundError(
                M.BLOCK_MISSING,
                expected=f"block {cid}",
                got="nothing in the repo",
                hint=M.HINT_MISSING,
            ) from None
        return _verify(cid, block)

    def size(self, cid: Cid) -> int:
        """The stored block's length, without reading it (raises BlockNotFoundError)."""
        try:
            return self.path(cid).stat().st_size
        except FileNotFoundError:
            raise BlockNotFoundError(
                M.BLOCK_MISSING,
                expected=f"block {cid}",
                got="nothing in the repo",
                hint=M.HINT_MISSING,
            ) from None

    def delete(self, cid: Cid) -> None:
        try:
            self.path(cid).unlink()
        except FileNotFoundError:
            pass

    def delete_key(self, key: str) -> None:
        try:
            (self.root / key[-3:-1] / f"{key}.data").unlink()
        except FileNotFoundError:
            pass

    def all_keys(self):
        """Yield the flatfs keys of every stored block."""
        for shard in self.root.iterdir():
            if shard.is_dir():
                for f in shard.glob("*.data"):
                    yield f.stem


class MemoryBlockstore:
    """Blocks in a dict; for tests and throwaway nodes."""

    def __init__(self):
        self._blocks: dict[bytes, bytes] = {}

    def put(self, cid: Cid, block: bytes) -> None:
        self._blocks[cid.multihash] = block

    def get(self, cid: Cid) -> bytes:
        try:
            return _verify(cid, self._blocks[cid.multihash])
        except KeyError:
            raise BlockNotFoundError(
                M.BLOCK_MISSING, expected=f"block {cid}", got="nothing", hint=M.HINT_MISSING
            ) from None

    def has(self, cid: Cid) -> bool:
        return cid.multihash in self._blocks

    def size(self, cid: Cid) -> int:
        try:
            return len(self._blocks[cid.multihash])
        except KeyError:
            raise BlockNotFoundError(
                M.BLOCK_MISSING, expected=f"block {cid}", got="nothing", hint=M.HINT_MISSING
            ) from None


class NullBlockstore:
    """Stores nothing: what ``add --only-hash`` writes to."""

    def put(self, cid: Cid, block: bytes) -> None:
        return None

    def get(self, cid: Cid) -> bytes:
        raise BlockNotFoundError(
            M.BLOCK_MISSING, expected=f"block {cid}", got="an only-hash store", hint=M.HINT_MISSING
        )

    def has(self, cid: Cid) -> bool:
        return False

    def size(self, cid: Cid) -> int:
        return self.get(cid)  # raises
