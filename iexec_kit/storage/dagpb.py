"""dag-pb and UnixFS: the two small protobuf messages of IPFS files, encoded by hand.

A dag-pb node is ``PBNode {repeated PBLink Links = 2; optional bytes Data = 1}`` written Links
first (the canonical order Kubo and every IPFS implementation hash); a link is
``PBLink {bytes Hash = 1; string Name = 2; uint64 Tsize = 3}``. A UnixFS ``Data`` message
(Type = 1, Data = 2, filesize = 3, blocksizes = 4, hashType = 5, fanout = 6) rides in the node's
Data field. No maintained Python library encodes these today, so this module does, and the
tests check every CID it yields against two independent implementations (Debian's ipfs_cid and
npm's ipfs-only-hash).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from iexec_kit.storage import messages as M
from iexec_kit.storage.errors import UnixfsError


class DataType(IntEnum):
    """UnixFS node types (unixfs.proto)."""

    RAW = 0
    DIRECTORY = 1
    FILE = 2
    METADATA = 3
    SYMLINK = 4
    HAMT_SHARD = 5


# --- protobuf wire helpers ------------------------------------------------------------------


def _varint(n: int) -> bytes:
    if n < 0:
        raise UnixfsError(M.PB_NEGATIVE, got=str(n))
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field_no: int, wire: int) -> bytes:
    return _varint((field_no << 3) | wire)


def _bytes_field(field_no: int, value: bytes) -> bytes:
    return _key(field_no, 2) + _varint(len(value)) + value


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise UnixfsError(M.PB_TRUNCATED, got=f"varint cut at byte {pos}")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise UnixfsError(M.PB_TRUNCATED, got="a varint longer than 10 bytes")


def _fields(buf: bytes):
    """Yield (field number, wire type, value) from a protobuf message; strict about lengths."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field_no, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            if pos + length > len(buf):
                raise UnixfsError(M.PB_TRUNCATED, got=f"field {field_no} claims {length} bytes")
            value = buf[pos : pos + length]
            pos += length
        else:
            raise UnixfsError(M.PB_WIRE, got=f"wire type {wire} in field {field_no}")
        yield field_no, wire, value


# --- dag-pb ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PBLink:
    """One link of a dag-pb node: the child's CID bytes, its name, its cumulative size."""

    hash: bytes
    name: str = ""
    tsize: int = 0

    def encode(self) -> bytes:
        # Kubo writes Name even when empty, and Tsize always.
        return (
            _bytes_field(1, self.hash)
            + _bytes_field(2, self.name.encode("utf-8"))
            + _key(3, 0)
            + _varint(self.tsize)
        )


@dataclass(frozen=True)
class PBNode:
    """A dag-pb node: links (in order) and opaque data (here a UnixFS message)."""

    links: tuple[PBLink, ...] = ()
    data: bytes | None = None

    def encode(self) -> bytes:
        out = bytearray()
        for link in self.links:
            out += _bytes_field(2, link.encode())
        if self.data is not None:
            out += _bytes_field(1, self.data)
        return bytes(out)

    @classmethod
    def decode(cls, buf: bytes) -> PBNode:
        links: list[PBLink] = []
        data = None
        for no, wire, value in _fields(buf):
            if no == 2 and wire == 2:
                h, name, tsize = b"", "", 0
                for lno, lwire, lval in _fields(value):
                    if lno == 1 and lwire == 2:
                        h = lval
                    elif lno == 2 and lwire == 2:
                        try:
                            name = lval.decode("utf-8")
                        except UnicodeDecodeError as exc:
                            raise UnixfsError(M.PB_NAME_UTF8, got=repr(lval[:40])) from exc
                    elif lno == 3 and lwire == 0:
                        tsize = lval
                    else:
                        raise UnixfsError(M.PB_UNKNOWN_FIELD, got=f"PBLink field {lno}")
                if not h:
                    raise UnixfsError(M.PB_LINK_NO_HASH)
                links.append(PBLink(h, name, tsize))
            elif no == 1 and wire == 2:
                data = value
            else:
                raise UnixfsError(M.PB_UNKNOWN_FIELD, got=f"PBNode field {no}")
        return cls(tuple(links), data)


# --- UnixFS ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnixfsData:
    """The UnixFS message: what a dag-pb node means as a file or a directory."""

    type: DataType
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: tuple[int, ...] = field(default=())
    hash_type: int | None = None
    fanout: int | None = None

    def encode(self) -> bytes:
        out = bytearray(_key(1, 0) + _varint(int(self.type)))
        if self.data is not None:
            out += _bytes_field(2, self.data)
        if self.filesize is not None:
            out += _key(3, 0) + _varint(self.filesize)
        for size in self.blocksizes:
            out += _key(4, 0) + _varint(size)
        if self.hash_type is not None:
            out += _key(5, 0) + _varint(self.hash_type)
        if self.fanout is not None:
            out += _key(6, 0) + _varint(self.fanout)
        return bytes(out)

    @classmethod
    def decode(cls, buf: bytes) -> UnixfsData:
        kind = None
        data = filesize = hash_type = fanout = None
        sizes: list[int] = []
        for no, wire, value in _fields(buf):
            if no == 1 and wire == 0:
                try:
                    kind = DataType(value)
                except ValueError as exc:
                    raise UnixfsError(M.UNIXFS_TYPE, got=str(value)) from exc
            elif no == 2 and wire == 2:
                data = value
            elif no == 3 and wire == 0:
                filesize = value
            elif no == 4 and wire == 0:
                sizes.append(value)
            elif no == 4 and wire == 2:  # packed encoding, accepted on read
                pos = 0
                while pos < len(value):
                    size, pos = _read_varint(value, pos)
                    sizes.append(size)
            elif no == 5 and wire == 0:
                hash_type = value
            elif no == 6 and wire == 0:
                fanout = value
            elif no in (7, 8):  # mode / mtime: metadata the kit ignores
                continue
            else:
                raise UnixfsError(M.PB_UNKNOWN_FIELD, got=f"UnixFS field {no}")
        if kind is None:
            raise UnixfsError(M.UNIXFS_NO_TYPE)
        return cls(kind, data, filesize, tuple(sizes), hash_type, fanout)
