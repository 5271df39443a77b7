"""UnixFS files and directories as dag-pb, with Kubo's defaults, and reading them back.

Importing follows ``ipfs add``: fixed 256 KiB chunks, a balanced tree of at most 174 links per
node, CIDv0 with UnixFS leaves by default; ``cid_version=1`` gives CIDv1 with raw leaves (as
``ipfs add --cid-version=1``). Directories list their entries sorted by name. A node's link
Tsize is the cumulative size of the child's whole DAG, as Kubo writes it.

Reading verifies every block (see blockstore.py) and seeks with the nodes' blocksizes, so
``cat`` with an offset reads only the blocks it needs.
"""

from __future__ import annotations

import io
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from iexec_kit.storage import messages as M
from iexec_kit.storage.blockstore import Blockstore
from iexec_kit.storage.cids import DAG_PB, RAW, Cid, cid_of_block
from iexec_kit.storage.dagpb import DataType, PBLink, PBNode, UnixfsData
from iexec_kit.storage.errors import DagBudgetError, PathEscapeError, UnixfsError

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
HAMT_THRESHOLD = 256 * 1024  # Kubo shards a directory whose estimated block exceeds this

#: What one DAG walk (pin ls, gc, check_complete, a folder's entries) may cost at most.
WALK_MAX_BLOCKS = 1_000_000
WALK_MAX_SECONDS = 60.0


class Budget:
    """A walk's allowance: at most ``blocks`` blocks read and ``seconds`` of wall time; past
    either, :meth:`spend` raises DagBudgetError (a DAG made of a few blocks linked many times
    over must not keep the node busy for hours). ``None`` lifts that bound."""

    def __init__(self, blocks: int | None = None, seconds: float | None = None):
        self.blocks = WALK_MAX_BLOCKS if blocks is None else blocks
        self.seconds = WALK_MAX_SECONDS if seconds is None else seconds
        self.spent = 0
        self._deadline = time.monotonic() + self.seconds

    def spend(self, n: int = 1) -> None:
        self.spent += n
        if self.spent > self.blocks:
            raise DagBudgetError(
                M.DAG_BUDGET,
                expected=f"at most {self.blocks} blocks per walk",
                got=f"more than {self.blocks}",
                hint="a DAG that links the same blocks over and over is refused",
            )
        if self.spent % 64 == 0 and time.monotonic() > self._deadline:
            raise DagBudgetError(
                M.DAG_BUDGET,
                expected=f"a walk within {self.seconds:g} s",
                got=f"{self.spent} blocks and still walking",
                hint="a DAG that links the same blocks over and over is refused",
            )


@dataclass(frozen=True)
class Added:
    """What adding gives back for one file or directory: its CID, cumulative DAG size, data size."""

    cid: Cid
    tsize: int
    filesize: int
    is_dir: bool = False


def check_name(name: str) -> str:
    """A directory entry name: non-empty, no '/', not '.' or '..', no NUL."""
    if not name or name in (".", "..") or "/" in name or "\x00" in name:
        raise PathEscapeError(
            M.UNIXFS_BAD_NAME, expected="a plain file name", got=repr(name), hint=M.HINT_PATH
        )
    return name


def _chunks(stream: BinaryIO, size: int) -> Iterator[bytes]:
    while True:
        buf = bytearray()
        while len(buf) < size:  # a stream may return short reads before its end
            part = stream.read(size - len(buf))
            if not part:
                break
            buf += part
        if not buf:
            return
        yield bytes(buf)
        if len(buf) < size:
            return


class Importer:
    """Turns bytes, streams and folders into UnixFS DAGs written to a blockstore."""

    def __init__(
        self,
        store: Blockstore,
        *,
        cid_version: int = 0,
        raw_leaves: bool | None = None,
        chunk_size: int = CHUNK_SIZE,
        max_links: int = MAX_LINKS,
    ):
        if cid_version not in (0, 1):
            raise UnixfsError(M.CID_VERSION, expected="0 or 1", got=repr(cid_version))
        self.store = store
        self.cid_version = cid_version
        self.raw_leaves = (cid_version == 1) if raw_leaves is None else raw_leaves
        self.chunk_size = chunk_size
        self.max_links = max_links

    # -- blocks --
    def _put(self, block: bytes, codec: str = DAG_PB) -> Cid:
        version = 1 if (codec == RAW or self.cid_version == 1) else 0
        cid = cid_of_block(block, codec=codec, version=version)
        self.store.put(cid, block)
        return cid

    def _leaf(self, chunk: bytes) -> Added:
        if self.raw_leaves:
            return Added(self._put(chunk, RAW), len(chunk), len(chunk))
        # an empty chunk has no Data field at all (QmbFMke1..., Kubo's empty file)
        fs = UnixfsData(DataType.FILE, chunk or None, len(chunk))
        block = PBNode(data=fs.encode()).encode()
        return Added(self._put(block), len(block), len(chunk))

    def _parent(self, children: list[Added]) -> Added:
        filesize = sum(c.filesize for c in children)
        data = UnixfsData(DataType.FILE, None, filesize, tuple(c.filesize for c in children))
        links = tuple(PBLink(bytes(c.cid), "", c.tsize) for c in children)
        block = PBNode(links, data.encode()).encode()
        return Added(self._put(block), len(block) + sum(c.tsize for c in children), filesize)

    # -- files --
    def add_stream(self, stream: BinaryIO) -> Added:
        """Add a file from a binary stream, chunk by chunk (memory stays ~ one chunk per level)."""
        levels: list[list[Added]] = [[]]
        for chunk in _chunks(stream, self.chunk_size):
            levels[0].append(self._leaf(chunk))
            self._collapse(levels)
        if not levels[0] and len(levels) == 1:  # empty input: one empty leaf, as Kubo
            levels[0].append(self._leaf(b""))
        return self._finish(levels)

    def _collapse(self, levels: list[list[Added]]) -> None:
        # A full level becomes one parent at once; Kubo's balanced layout gives the same tree
        # (left subtrees full, the last one partial), see _finish for the right edge.
        i = 0
        while len(levels[i]) == self.max_links:
            node = self._parent(levels[i])
            levels[i] = []
            if i + 1 == len(levels):
                levels.append([])
            levels[i + 1].append(node)
            i += 1

    def _finish(self, levels: list[list[Added]]) -> Added:
        top = max(i for i, lv in enumerate(levels) if lv)
        carry: Added | None = None
        for i in range(len(levels)):
            entries = levels[i] + ([carry] if carry else [])
            if not entries:
                continue
            if i >= top and len(entries) == 1:
                return entries[0]
            carry = self._parent(entries)
        assert carry is not None
        return carry

    def add_bytes(self, data: bytes) -> Added:
        """Add bytes held in memory as one file."""
        return self.add_stream(io.BytesIO(data))

    def add_symlink(self, target: str) -> Added:
        """A UnixFS symlink node (Kubo adds links as links, never following them)."""
        block = PBNode(data=UnixfsData(DataType.SYMLINK, target.encode()).encode()).encode()
        return Added(self._put(block), len(block), 0)

    # -- directories --
    def add_directory_entries(self, entries: dict[str, Added]) -> Added:
        """A directory node over already-added children, sorted by name as Kubo sorts them."""
        names = sorted(entries, key=lambda n: n.encode("utf-8"))
        links = tuple(PBLink(bytes(entries[n].cid), check_name(n), entries[n].tsize) for n in names)
        estimate = sum(len(link.name.encode()) + len(link.hash) for link in links)
        if estimate > HAMT_THRESHOLD:
            raise UnixfsError(
                M.UNIXFS_HAMT,
                expected=f"at most {HAMT_THRESHOLD} bytes of links",
                got=f"{estimate} bytes ({len(links)} entries)",
                hint="split the folder into sub-folders",
            )
        block = PBNode(links, UnixfsData(DataType.DIRECTORY).encode()).encode()
        return Added(
            self._put(block),
            len(block) + sum(entries[n].tsize for n in names),
            sum(entries[n].filesize for n in names),
            is_dir=True,
        )

    def add_path(
        self, path: str | os.PathLike[str], *, hidden: bool = False, on_added=None
    ) -> Added:
        """Add a file or a folder (recursively). Hidden entries are skipped unless ``hidden``
        (Kubo's ``-r`` default). ``on_added(relpath, Added)`` is called for each entry, children
        before their folder, as Kubo lists them."""
        root = Path(path)
        return self._add_path(root, root.name, hidden, on_added)

    def _add_path(self, p: Path, rel: str, hidden: bool, on_added) -> Added:
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            added = self.add_symlink(os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            children: dict[str, Added] = {}
            for child in sorted(os.listdir(p)):
                if not hidden and child.startswith("."):
                    continue
                children[child] = self._add_path(p / child, f"{rel}/{child}", hidden, on_added)
            added = self.add_directory_entries(children)
        elif stat.S_ISREG(st.st_mode):
            with open(p, "rb") as fh:
                added = self.add_stream(fh)
        else:
            raise UnixfsError(
                M.UNIXFS_UNSUPPORTED, expected="a file, folder or symlink", got=str(p)
            )
        if on_added:
            on_added(rel, added)
        return added


class TreeBuilder:
    """Collects files and folders that arrive one by one (a multipart add) into directories."""

    def __init__(self, importer: Importer):
        self.importer = importer
        self.tree: dict = {}
        self.files: dict[tuple[str, ...], Added] = {}

    def _parts(self, path: str) -> tuple[str, ...]:
        parts = tuple(p for p in path.replace("\\", "/").split("/") if p not in ("",))
        if not parts:
            raise PathEscapeError(
                M.UNIXFS_BAD_NAME, expected="a relative path", got=repr(path), hint=M.HINT_PATH
            )
        for part in parts:
            check_name(part)
        return parts

    def _dir(self, parts: tuple[str, ...]) -> dict:
        node = self.tree
        for part in parts:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise UnixfsError(
                    M.UPLOAD_MALFORMED, expected="a folder", got=f"{'/'.join(parts)!r} is a file"
                )
        return node

    def add_dir(self, path: str) -> None:
        self._dir(self._parts(path))

    def add_file(self, path: str, stream: BinaryIO) -> tuple[str, Added]:
        """Add one file; a path already taken (by a folder or a file) is refused, never
        replaced: an upload that names one entry twice is malformed."""
        parts = self._parts(path)
        folder = self._dir(parts[:-1])
        if parts[-1] in folder:
            taken = "a folder" if isinstance(folder[parts[-1]], dict) else "a file"
            raise UnixfsError(
                M.UPLOAD_MALFORMED, expected="each path named once", got=f"{path!r} is {taken}"
            )
        added = self.importer.add_stream(stream)
        folder[parts[-1]] = added
        return "/".join(parts), added

    def finish(self) -> list[tuple[str, Added]]:
        """Build every folder bottom-up; returns (path, Added) for each folder, children first.
        Afterwards ``self.top`` maps each top-level name to its Added."""
        out: list[tuple[str, Added]] = []

        def build(node: dict, prefix: str) -> Added:
            entries = {}
            for name, child in node.items():
                path = f"{prefix}/{name}" if prefix else name
                entries[name] = build(child, path) if isinstance(child, dict) else child
            added = self.importer.add_directory_entries(entries)
            out.append((prefix, added))
            return added

        self.top: dict[str, Added] = {}
        for name, child in self.tree.items():
            self.top[name] = build(child, name) if isinstance(child, dict) else child
        return out


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One directory entry as `ls` shows it."""

    name: str
    cid: Cid
    tsize: int
    is_dir: bool


class Reader:
    """Reads UnixFS DAGs from a blockstore, verifying every block it touches."""

    def __init__(self, store: Blockstore):
        self.store = store

    def node(self, cid: Cid) -> tuple[PBNode | None, UnixfsData]:
        """Decode a block: (dag-pb node or None for raw, its UnixFS data)."""
        block = self.store.get(cid)
        if cid.codec == RAW:
            return None, UnixfsData(DataType.RAW, block, len(block))
        node = PBNode.decode(block)
        if node.data is None:
            raise UnixfsError(M.UNIXFS_NO_DATA, got=str(cid))
        return node, UnixfsData.decode(node.data)

    def resolve(self, cid: Cid, segments: list[str]) -> Cid:
        """Follow named links from a directory: /ipfs/<cid>/a/b -> Cid of b."""
        for seg in segments:
            node, fs = self.node(cid)
            if node is None or fs.type != DataType.DIRECTORY:
                raise UnixfsError(
                    M.UNIXFS_NOT_DIR, expected="a directory", got=f"{cid} ({fs.type.name})"
                )
            for link in node.links:
                if link.name == seg:
                    cid = Cid.from_bytes(link.hash)
                    break
            else:
                raise UnixfsError(
                    M.UNIXFS_NO_SUCH_LINK, expected=f"an entry {seg!r}", got=f"none in {cid}"
                )
        return cid

    def is_dir(self, cid: Cid) -> bool:
        node, fs = self.node(cid)
        return fs.type == DataType.DIRECTORY

    def size(self, cid: Cid) -> int:
        """The file's data size (its filesize), without reading its leaves."""
        node, fs = self.node(cid)
        if fs.type not in (DataType.FILE, DataType.RAW):
            raise UnixfsError(M.UNIXFS_NOT_FILE, expected="a file", got=f"{cid} ({fs.type.name})")
        if fs.filesize is not None:
            return fs.filesize
        return len(fs.data or b"") + sum(fs.blocksizes)

    def read(self, cid: Cid, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The file's bytes from ``offset``, at most ``length`` of them, as an iterator.

        Arguments and the root node are checked now (errors raise here, not at the first
        ``next``), so an HTTP answer never starts for a read that cannot succeed."""
        if offset < 0 or (length is not None and length < 0):
            raise UnixfsError(M.READ_RANGE, got=f"offset={offset} length={length}")
        end = None if length is None else offset + length
        node, fs = self.node(cid)
        if fs.type not in (DataType.FILE, DataType.RAW):
            raise UnixfsError(
                M.UNIXFS_NOT_FILE,
                expected="a file",
                got=f"{cid} ({fs.type.name})",
                hint="use get (or ls) for a directory",
            )
        return self._read(node, fs, offset, end)

    def _read(self, node, fs, start: int, end: int | None) -> Iterator[bytes]:
        data = fs.data or b""
        pos = 0
        if data:
            if start < len(data) and (end is None or end > 0):
                yield data[start:end]
            pos = len(data)
        if node is None:
            return
        if len(fs.blocksizes) != len(node.links):
            raise UnixfsError(
                M.PB_TRUNCATED,
                expected=f"{len(node.links)} blocksizes",
                got=str(len(fs.blocksizes)),
            )
        for link, bsize in zip(node.links, fs.blocksizes):
            lo, hi = pos, pos + bsize
            pos = hi
            if hi <= start:
                continue
            if end is not None and lo >= end:
                break
            child = Cid.from_bytes(link.hash)
            cnode, cfs = self.node(child)
            yield from self._read(
                cnode, cfs, max(start - lo, 0), None if end is None else min(end, hi) - lo
            )

    def cat(self, cid: Cid, offset: int = 0, length: int | None = None) -> bytes:
        return b"".join(self.read(cid, offset, length))

    def ls(self, cid: Cid) -> list[Entry]:
        node, fs = self.node(cid)
        if node is None or fs.type != DataType.DIRECTORY:
            raise UnixfsError(
                M.UNIXFS_NOT_DIR, expected="a directory", got=f"{cid} ({fs.type.name})"
            )
        out = []
        for link in node.links:
            child = Cid.from_bytes(link.hash)
            _, cfs = self.node(child)
            out.append(Entry(link.name, child, link.tsize, cfs.type == DataType.DIRECTORY))
        return out

    def walk(
        self, cid: Cid, prefix: str = "", budget: Budget | None = None
    ) -> Iterator[tuple[str, Cid, DataType]]:
        """Yield (relative path, CID, type) for a file or every entry under a directory.

        Every entry is one step of ``budget`` (default: WALK_MAX_BLOCKS entries, no time
        bound, since a download streams as it walks): a folder that links the same sub-folder
        many times over has as many entries as paths, and is refused past the budget."""
        if budget is None:
            budget = Budget(seconds=float("inf"))
        budget.spend()
        node, fs = self.node(cid)
        yield prefix, cid, fs.type
        if fs.type == DataType.DIRECTORY and node is not None:
            for link in node.links:
                name = check_name(link.name)
                yield from self.walk(
                    Cid.from_bytes(link.hash), f"{prefix}/{name}" if prefix else name, budget
                )
        elif fs.type == DataType.HAMT_SHARD:
            raise UnixfsError(M.UNIXFS_UNSUPPORTED, got="HAMT-sharded directory")

    def check_complete(self, cid: Cid, budget: Budget | None = None) -> None:
        """Raise BlockNotFoundError unless every block of the DAG is present.

        Reads (and verifies) inner nodes only: a child whose stored length equals its link's
        Tsize has no children of its own (Tsize = block length + children's Tsizes), so a leaf
        is only stat-ed. Leaves are verified later, as they are read. Each block is looked at
        once however often it is linked, within ``budget`` (default: a fresh :class:`Budget`)."""
        budget = budget or Budget()
        self.store.size(cid)
        seen = {bytes(cid)}
        stack = [cid]
        while stack:
            current = stack.pop()
            if current.codec == RAW:
                continue
            budget.spend()
            node, _ = self.node(current)
            if node is None:
                continue
            for link in node.links:
                if link.hash in seen:
                    continue
                seen.add(link.hash)
                child = Cid.from_bytes(link.hash)
                size = self.store.size(child)
                if child.codec != RAW and size != link.tsize:
                    stack.append(child)

    def links(
        self, cid: Cid, budget: Budget | None = None, seen: set[bytes] | None = None
    ) -> Iterator[Cid]:
        """Every CID of the DAG under ``cid`` (itself included), each once, however often it is
        linked; blocks already in ``seen`` (shared between walks, e.g. by gc) are skipped with
        their children. Within ``budget`` (default: a fresh :class:`Budget`)."""
        budget = budget or Budget()
        seen = set() if seen is None else seen
        if bytes(cid) in seen:
            return
        seen.add(bytes(cid))
        stack = [cid]
        while stack:
            current = stack.pop()
            yield current
            if current.codec == RAW:
                continue
            budget.spend()
            node, _ = self.node(current)
            for link in node.links:
                if link.hash not in seen:
                    seen.add(link.hash)
                    stack.append(Cid.from_bytes(link.hash))


def safe_join(root: str | os.PathLike[str], relpath: str) -> Path:
    """``root / relpath``, refusing any path that would land outside ``root``."""
    base = Path(root).resolve()
    if relpath.startswith(("/", "\\")) or (len(relpath) > 1 and relpath[1] == ":"):
        raise PathEscapeError(
            M.PATH_ESCAPE, expected="a relative path", got=repr(relpath), hint=M.HINT_PATH
        )
    target = (base / relpath).resolve()
    if target != base and base not in target.parents:
        raise PathEscapeError(
            M.PATH_ESCAPE, expected=f"a path inside {base}", got=repr(relpath), hint=M.HINT_PATH
        )
    return target
