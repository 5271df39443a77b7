"""The embedded IPFS node: a repo folder of verified blocks, pins, and a peer identity.

It speaks the same Python interface as :class:`iexec_kit.storage.kubo.KuboClient` (the
:class:`IpfsBackend` protocol), so the rest of the kit does not care which one it holds. It does
not join a swarm: the kit runs offline, so content is served by this node's HTTP API and
gateway only (see api.py).
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from multiformats import multibase

from iexec_kit.storage import messages as M
from iexec_kit.storage.blockstore import FlatfsBlockstore, NullBlockstore
from iexec_kit.storage.cids import Cid, parse_cid, split_ipfs_path
from iexec_kit.storage.dagpb import DataType
from iexec_kit.storage.errors import (
    DestinationExistsError,
    PathEscapeError,
    StorageError,
    UnixfsError,
)
from iexec_kit.storage.unixfs import (
    Added,
    Budget,
    Entry,
    Importer,
    Reader,
    TreeBuilder,
    check_name,
    safe_join,
)


def kit_version() -> str:
    """The installed iexec-kit version (0.0.0 from a bare checkout)."""
    try:
        from importlib.metadata import version

        return version("iexec-kit")
    except Exception:  # not installed (running from a checkout)
        return "0.0.0"


class IpfsBackend(Protocol):
    """The IPFS operations the kit uses; the embedded node and a Kubo daemon both provide them."""

    def add_bytes(
        self, data: bytes, *, cid_version: int = 0, only_hash: bool = False, pin: bool = True
    ) -> str: ...

    def add_path(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        only_hash: bool = False,
        pin: bool = True,
    ) -> str: ...

    def cat(self, cid: str, offset: int = 0, length: int | None = None) -> bytes: ...

    def get(self, cid: str, dest: str | os.PathLike[str], *, force: bool = False) -> Path: ...

    def pin_add(self, cid: str) -> None: ...

    def pin_ls(self) -> dict[str, str]: ...

    def pin_rm(self, cid: str) -> None: ...

    def block_get(self, cid: str) -> bytes: ...

    def block_stat(self, cid: str) -> dict: ...

    def version(self) -> dict: ...

    def id(self) -> dict: ...


class _RepoLock:
    """Serialises pin-set updates between threads and between processes (a CLI ``add`` while
    the daemon runs on the same repo): a thread lock plus ``flock`` on a lock file."""

    def __init__(self, path: Path):
        self._path = path
        self._thread = threading.RLock()
        self._depth = 0
        self._fh = None

    def __enter__(self):
        self._thread.acquire()
        if self._depth == 0:
            try:
                import fcntl
            except ImportError:  # not POSIX: threads only
                fcntl = None
            self._fh = open(self._path, "a+")
            if fcntl is not None:
                fcntl.flock(self._fh, fcntl.LOCK_EX)
        self._depth += 1
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        if self._depth == 0:
            self._fh.close()  # closing releases the flock
            self._fh = None
        self._thread.release()


def download_target(path: str | Cid, dest: str | os.PathLike[str], *, force: bool) -> Path:
    """Where ``get(path, dest)`` writes, by Kubo's ``ipfs get -o`` rules; raises before any
    write when the path's names are not plain names or when the place is taken (unless
    ``force``). An existing folder ``dest`` receives ``<name>`` inside it, never replaced."""
    if isinstance(path, Cid):
        root, segments = path, []
    else:
        root, segments = split_ipfs_path(str(path))
    for seg in segments:
        check_name(seg)  # /ipfs/<cid>/.. must never name the folder above dest
    name = segments[-1] if segments else str(root)
    dest = Path(dest)
    final = dest / name if dest.is_dir() else dest
    if final.name in ("", ".", ".."):
        raise PathEscapeError(
            M.GET_BAD_DEST, expected="a path ending in a plain name", got=str(dest)
        )
    if os.path.lexists(final) and not force:
        raise DestinationExistsError(
            M.GET_EXISTS,
            expected=f"nothing at {final}",
            got=_kind_at(final),
            hint=M.HINT_GET_EXISTS,
        )
    return final


def _kind_at(path: Path) -> str:
    if path.is_symlink():
        return "a symbolic link"
    return "a folder" if path.is_dir() else "a file"


def place_download(final: Path, write, *, force: bool) -> Path:
    """Run ``write(staged)`` (it creates the file or folder ``staged``) in a temporary sibling
    of ``final``, then rename it to ``final``. Only ``final`` itself is ever replaced (with
    ``force``), and a failure leaves ``final`` as it was."""
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    box = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=parent))
    try:
        staged = box / "new"
        write(staged)
        if not os.path.lexists(staged):
            raise UnixfsError(M.UNIXFS_UNSUPPORTED, expected="a file or a folder", got="nothing")
        old = None
        if os.path.lexists(final):
            if not force:
                raise DestinationExistsError(
                    M.GET_EXISTS,
                    expected=f"nothing at {final}",
                    got=_kind_at(final),
                    hint=M.HINT_GET_EXISTS,
                )
            old = box / "old"
            os.replace(final, old)  # moves the entry itself (a link is not followed)
        try:
            os.replace(staged, final)
        except BaseException:
            if old is not None:
                os.replace(old, final)
            raise
    finally:
        shutil.rmtree(box, ignore_errors=True)
    return final


def default_repo() -> Path:
    """$IEXEC_KIT_IPFS_REPO, else ~/.iexec-kit/ipfs."""
    env = os.environ.get("IEXEC_KIT_IPFS_REPO")
    return Path(env) if env else Path.home() / ".iexec-kit" / "ipfs"


class IpfsNode:
    """The kit's IPFS node over a repo folder (created when missing).

    >>> node = IpfsNode(tmp_path / "ipfs")
    >>> cid = node.add_bytes(b"hello")          # 'QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX'
    >>> node.cat(cid)
    b'hello'
    """

    def __init__(self, repo: str | os.PathLike[str] | None = None):
        self.repo = Path(repo) if repo is not None else default_repo()
        self.repo.mkdir(parents=True, exist_ok=True)
        self.blocks = FlatfsBlockstore(self.repo / "blocks")
        self.reader = Reader(self.blocks)
        self._lock = _RepoLock(self.repo / "repo.lock")
        self._pins_file = self.repo / "pins.json"
        self._key = self._load_identity()

    def __repr__(self) -> str:
        return f"IpfsNode(repo={str(self.repo)!r})"

    # -- identity --
    def _load_identity(self):
        """The node's Ed25519 key (identity.key, mode 0600), created once per repo."""
        from cryptography.hazmat.primitives import serialization as s
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        path = self.repo / "identity.key"
        with self._lock:  # two processes opening a fresh repo make one identity, not two
            if path.is_file():
                raw = path.read_bytes()
                if len(raw) != 32:  # a corrupted key: refused with words, never replaced
                    raise StorageError(
                        f"the repo's identity key {path} is corrupted",
                        expected="32 raw bytes (an Ed25519 private key, written by the kit)",
                        got=f"{len(raw)} bytes",
                        hint=f"restore {path} from a backup, or delete it to get a new peer ID",
                    )
                return Ed25519PrivateKey.from_private_bytes(raw)
            key = Ed25519PrivateKey.generate()
            raw = key.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
            os.replace(tmp, path)
            return key

    def _public_key_proto(self) -> bytes:
        from cryptography.hazmat.primitives import serialization as s

        raw = self._key.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
        return b"\x08\x01\x12\x20" + raw  # libp2p PublicKey{Type: Ed25519, Data: 32 bytes}

    @property
    def peer_id(self) -> str:
        """libp2p peer ID (identity multihash of the Ed25519 public key, base58btc: 12D3KooW...)."""
        proto = self._public_key_proto()
        return multibase.encode(b"\x00" + bytes([len(proto)]) + proto, "base58btc")[1:]

    def id(self) -> dict:
        """The node's identity, shaped like Kubo's /api/v0/id."""
        return {
            "ID": self.peer_id,
            "PublicKey": base64.b64encode(self._public_key_proto()).decode(),
            "Addresses": [],
            "AgentVersion": f"iexec-kit/{kit_version()}",
            "Protocols": [],
        }

    def version(self) -> dict:
        """The kit's version, shaped like Kubo's /api/v0/version.

        The kit's own version, never a Kubo one: clients must not mistake the node for Kubo."""
        return {
            "Version": f"{kit_version()}-iexec-kit",
            "Commit": "",
            "Repo": "1",
            "System": "python",
            "Golang": "",
        }

    # -- adding --
    def importer(
        self, *, cid_version: int = 0, raw_leaves: bool | None = None, only_hash: bool = False
    ) -> Importer:
        """An :class:`Importer` writing to this repo (or to nothing, for ``only_hash``)."""
        store = NullBlockstore() if only_hash else self.blocks
        return Importer(store, cid_version=cid_version, raw_leaves=raw_leaves)

    def add_stream(
        self,
        stream: BinaryIO,
        *,
        cid_version: int = 0,
        raw_leaves: bool | None = None,
        only_hash: bool = False,
        pin: bool = True,
    ) -> Added:
        """Add a file from a binary stream; returns its :class:`Added` (cid, sizes)."""
        added = self.importer(
            cid_version=cid_version, raw_leaves=raw_leaves, only_hash=only_hash
        ).add_stream(stream)
        if pin and not only_hash:
            self._pin(str(added.cid), "recursive")
        return added

    def add_bytes(
        self,
        data: bytes,
        *,
        cid_version: int = 0,
        raw_leaves: bool | None = None,
        only_hash: bool = False,
        pin: bool = True,
    ) -> str:
        """Add bytes as one file; returns its CID string (CIDv0 by default, as Kubo)."""
        return str(
            self.add_stream(
                io.BytesIO(data),
                cid_version=cid_version,
                raw_leaves=raw_leaves,
                only_hash=only_hash,
                pin=pin,
            ).cid
        )

    def add_path(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        raw_leaves: bool | None = None,
        only_hash: bool = False,
        pin: bool = True,
        hidden: bool = False,
        on_added=None,
    ) -> str:
        """Add a file or a folder (recursively, like ``ipfs add -r``); returns the root CID."""
        p = Path(path)
        if not os.path.lexists(p):
            raise StorageError(
                M.NODE_PATH_MISSING, expected="an existing file or folder", got=str(p)
            )
        added = self.importer(
            cid_version=cid_version, raw_leaves=raw_leaves, only_hash=only_hash
        ).add_path(p, hidden=hidden, on_added=on_added)
        if pin and not only_hash:
            self._pin(str(added.cid), "recursive")
        return str(added.cid)

    def tree_builder(
        self, *, cid_version: int = 0, raw_leaves: bool | None = None, only_hash: bool = False
    ) -> TreeBuilder:
        """For adds that arrive entry by entry (the HTTP API's multipart add)."""
        return TreeBuilder(
            self.importer(cid_version=cid_version, raw_leaves=raw_leaves, only_hash=only_hash)
        )

    # -- reading --
    def resolve(self, path: str | Cid) -> Cid:
        """A CID or an /ipfs/<cid>/a/b path -> the CID it names."""
        if isinstance(path, Cid):
            return path
        root, segments = split_ipfs_path(path)
        return self.reader.resolve(root, segments)

    def read(self, cid: str | Cid, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream a file's bytes; checks that the whole DAG is present before the first byte."""
        target = self.resolve(cid)
        self.reader.check_complete(target)
        return self.reader.read(target, offset, length)

    def cat(self, cid: str | Cid, offset: int = 0, length: int | None = None) -> bytes:
        """A file's bytes (or a slice of them)."""
        return b"".join(self.read(cid, offset, length))

    def size(self, cid: str | Cid) -> int:
        """A file's size in bytes, from its root node."""
        return self.reader.size(self.resolve(cid))

    def is_dir(self, cid: str | Cid) -> bool:
        """Whether the CID (or /ipfs/ path) is a UnixFS directory."""
        return self.reader.is_dir(self.resolve(cid))

    def ls(self, cid: str | Cid) -> list[Entry]:
        """The entries of a directory (name, CID, cumulative size, is_dir)."""
        return self.reader.ls(self.resolve(cid))

    def walk(self, cid: str | Cid):
        """(relative path, CID, DataType) of a file or of every entry of a folder."""
        return self.reader.walk(self.resolve(cid))

    def get(self, cid: str | Cid, dest: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write a file or a folder as ``ipfs get CID -o dest`` does; returns where it went.

        ``dest`` is never deleted: an existing folder receives the download inside it, under
        the CID's (or the path's last segment's) name. An existing file, or an existing entry
        of that name, is refused unless ``force`` (which replaces that one entry only). Every
        entry name is checked before anything is written; the download is written into a
        temporary sibling and renamed at the end, so a failure leaves nothing half-written."""
        final = download_target(cid, dest, force=force)
        target = self.resolve(cid)
        self.reader.check_complete(target)
        entries = list(self.reader.walk(target))  # raises on a bad name, before any write

        def write(staged: Path) -> None:
            for rel, entry, kind in entries:
                out = safe_join(staged, rel) if rel else staged
                if kind == DataType.DIRECTORY:
                    out.mkdir(parents=True, exist_ok=True)
                elif kind in (DataType.FILE, DataType.RAW):
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with open(out, "wb") as fh:
                        for chunk in self.reader.read(entry):
                            fh.write(chunk)
                # symlinks (and anything else) from foreign content are never created

        return place_download(final, write, force=force)

    # -- blocks --
    def block_get(self, cid: str | Cid) -> bytes:
        """One raw block, verified against its CID; an /ipfs/<cid>/a/b path names the block
        it resolves to (as Kubo), never the root's."""
        return self.blocks.get(self.resolve(cid))

    def block_stat(self, cid: str | Cid) -> dict:
        """{'Key': cid, 'Size': block length}, as Kubo's block/stat (paths resolved)."""
        c = self.resolve(cid)
        return {"Key": str(c), "Size": len(self.blocks.get(c))}

    # -- pins --
    def _read_pins(self) -> dict[str, str]:
        try:
            pins = json.loads(self._pins_file.read_text())
        except FileNotFoundError:
            return {}
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            pins = exc
        if not isinstance(pins, dict):
            raise StorageError(
                f"the repo's pin list {self._pins_file} is corrupted",
                expected='a JSON object {"<cid>": "recursive" | "direct"} (written by the kit)',
                got=str(pins) if isinstance(pins, Exception) else type(pins).__name__,
                hint=f"restore {self._pins_file} from a backup, or delete it (every pin is "
                "lost; the blocks stay until a gc)",
            )
        return pins

    def _write_pins(self, pins: dict[str, str]) -> None:
        tmp = self._pins_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(pins, indent=1, sort_keys=True))
        os.replace(tmp, self._pins_file)

    def _pin(self, cid: str, kind: str) -> None:
        with self._lock:
            pins = self._read_pins()
            if pins.get(cid) != "recursive":
                pins[cid] = kind
            self._write_pins(pins)

    def pin_add(self, cid: str | Cid, recursive: bool = True) -> None:
        """Pin a CID (and, recursively, its whole DAG, which must be present)."""
        c = self.resolve(cid)
        if recursive:
            self.reader.check_complete(c)
        else:
            self.blocks.get(c)
        self._pin(str(c), "recursive" if recursive else "direct")

    def pin_ls(self, type: str = "recursive") -> dict[str, str]:
        """{cid: kind} of the pins; ``type`` is "recursive", "direct", "indirect" or "all"
        (indirect = every block under a recursive pin, as Kubo lists them)."""
        pins = self._read_pins()
        out = {c: k for c, k in pins.items() if type == "all" or k == type}
        if type in ("indirect", "all"):
            budget, seen = Budget(), set()  # one walk over every pin, each block once
            for root, kind in pins.items():
                if kind != "recursive":
                    continue
                for cid in self.reader.links(parse_cid(root), budget, seen):
                    out.setdefault(str(cid), "indirect")
        return out

    def gc(self) -> int:
        """Delete every block no pin reaches (``ipfs repo gc``); returns how many were removed."""
        with self._lock:
            live: set[str] = set()
            budget, seen = Budget(), set()
            for root, kind in self._read_pins().items():
                c = parse_cid(root)
                if kind == "direct":
                    live.add(self.blocks.key(c))
                else:
                    live.update(self.blocks.key(x) for x in self.reader.links(c, budget, seen))
            removed = 0
            for key in list(self.blocks.all_keys()):
                if key not in live:
                    self.blocks.delete_key(key)
                    removed += 1
            return removed

    def pin_rm(self, cid: str | Cid) -> None:
        """Unpin a CID (its blocks stay until :meth:`gc`)."""
        c = str(self.resolve(cid))
        with self._lock:
            pins = self._read_pins()
            if c not in pins:
                raise UnixfsError(
                    M.PIN_NOT_PINNED,
                    expected="a pinned CID",
                    got=c,
                    hint="see pin_ls() for what is pinned",
                )
            del pins[c]
            self._write_pins(pins)
