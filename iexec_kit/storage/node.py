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
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from multiformats import multibase

from iexec_kit.storage import messages as M
from iexec_kit.storage.blockstore import FlatfsBlockstore, NullBlockstore
from iexec_kit.storage.cids import Cid, parse_cid, split_ipfs_path
from iexec_kit.storage.dagpb import DataType
from iexec_kit.storage.errors import StorageError, UnixfsError
from iexec_kit.storage.unixfs import Added, Entry, Importer, Reader, TreeBuilder, safe_join


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

    def get(self, cid: str, dest: str | os.PathLike[str]) -> Path: ...

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
                return Ed25519PrivateKey.from_private_bytes(path.read_bytes())
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

    def get(self, cid: str | Cid, dest: str | os.PathLike[str]) -> Path:
        """Write a file or a folder to ``dest`` (``ipfs get CID -o dest``); returns ``dest``.

        It is written beside ``dest`` first and renamed in place at the end, so ``dest`` never
        holds a half-written result; entry names that would escape ``dest`` are refused."""
        target = self.resolve(cid)
        self.reader.check_complete(target)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = dest.parent / f".{dest.name}.partial"
        if staging.exists():
            shutil.rmtree(staging) if staging.is_dir() else staging.unlink()
        try:
            for rel, entry, kind in self.reader.walk(target):
                out = safe_join(staging, rel) if rel else staging
                if kind == DataType.DIRECTORY:
                    out.mkdir(parents=True, exist_ok=True)
                elif kind == DataType.SYMLINK:
                    continue  # never follow or create links from foreign content
                else:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with open(out, "wb") as fh:
                        for chunk in self.reader.read(entry):
                            fh.write(chunk)
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            elif dest.exists():
                dest.unlink()
            os.replace(staging, dest)
        except BaseException:
            if staging.is_dir():
                shutil.rmtree(staging, ignore_errors=True)
            elif staging.exists():
                staging.unlink()
            raise
        return dest

    # -- blocks --
    def block_get(self, cid: str | Cid) -> bytes:
        """One raw block, verified against its CID."""
        return self.blocks.get(parse_cid(cid))

    def block_stat(self, cid: str | Cid) -> dict:
        """{'Key': cid, 'Size': block length}, as Kubo's block/stat."""
        c = parse_cid(cid)
        return {"Key": str(c), "Size": len(self.blocks.get(c))}

    # -- pins --
    def _read_pins(self) -> dict[str, str]:
        try:
            return json.loads(self._pins_file.read_text())
        except FileNotFoundError:
            return {}

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
            for root, kind in pins.items():
                if kind != "recursive":
                    continue
                for cid in self.reader.links(parse_cid(root)):
                    out.setdefault(str(cid), "indirect")
        return out

    def gc(self) -> int:
        """Delete every block no pin reaches (``ipfs repo gc``); returns how many were removed."""
        with self._lock:
            live: set[str] = set()
            for root, kind in self._read_pins().items():
                c = parse_cid(root)
                if kind == "direct":
                    live.add(self.blocks.key(c))
                else:
                    live.update(self.blocks.key(x) for x in self.reader.links(c))
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
