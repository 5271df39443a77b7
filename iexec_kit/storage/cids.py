"""CIDs for the kit's node: sha2-256 over dag-pb or raw blocks.

User input is parsed and checked with the maintained `multiformats` library; inside the node a
CID is a small immutable :class:`Cid` over its binary form (``0x12 0x20 <digest>`` for v0,
``0x01 <codec> 0x12 0x20 <digest>`` for v1), because building multiformats objects for every
block of a 100 MB file costs more than hashing it. Text forms: base58btc for v0, base32 ('b')
for v1, as Kubo prints them; the tests compare both with multiformats and two independent
IPFS implementations.
"""

from __future__ import annotations

import base64
import hashlib

from iexec_kit.storage import messages as M
from iexec_kit.storage.errors import InvalidCidError

DAG_PB = "dag-pb"
RAW = "raw"
SHA2_256 = 0x12
_CODECS = {0x70: DAG_PB, 0x55: RAW}
_CODES = {v: k for k, v in _CODECS.items()}
_MH_PREFIX = b"\x12\x20"  # sha2-256, 32 bytes
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58encode(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(_B58[rem])
    pad = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


class Cid:
    """A CIDv0 or CIDv1 (sha2-256; dag-pb or raw), compared and hashed by its bytes."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes):
        object.__setattr__(self, "raw", bytes(raw))

    def __setattr__(self, name, value):
        raise AttributeError("Cid is immutable")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Cid:
        """A binary CID, as dag-pb links hold them; refuses kinds the node cannot serve."""
        raw = bytes(raw)
        if len(raw) == 34 and raw[:2] == _MH_PREFIX:
            return cls(raw)
        if len(raw) == 36 and raw[0] == 1 and raw[1] in _CODECS and raw[2:4] == _MH_PREFIX:
            return cls(raw)
        return parse_cid(raw)  # slow path: a precise error from multiformats

    @property
    def version(self) -> int:
        return 0 if len(self.raw) == 34 else 1

    @property
    def codec(self) -> str:
        """'dag-pb' or 'raw'."""
        return DAG_PB if self.version == 0 else _CODECS[self.raw[1]]

    @property
    def multihash(self) -> bytes:
        return self.raw[-34:]

    @property
    def digest(self) -> bytes:
        """The 32-byte sha2-256 digest of the block."""
        return self.raw[-32:]

    def to_v1(self) -> Cid:
        return self if self.version == 1 else Cid(b"\x01\x70" + self.raw)

    def __bytes__(self) -> bytes:
        return self.raw

    def __str__(self) -> str:
        if self.version == 0:
            return _b58encode(self.raw)
        return "b" + base64.b32encode(self.raw).decode().lower().rstrip("=")

    def __repr__(self) -> str:
        return f"Cid({str(self)!r})"

    def __eq__(self, other) -> bool:
        if isinstance(other, Cid):
            return self.raw == other.raw
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.raw)


def cid_of_block(block: bytes, *, codec: str = DAG_PB, version: int = 0) -> Cid:
    """The CID of a block: sha2-256, ``codec``; version 0 (dag-pb only) or 1."""
    mh = _MH_PREFIX + hashlib.sha256(block).digest()
    if version == 0 and codec == DAG_PB:
        return Cid(mh)
    return Cid(bytes([1, _CODES[codec]]) + mh)


def parse_cid(value: str | bytes | Cid) -> Cid:
    """Parse a CID string (optionally ``/ipfs/<cid>``) or bytes; only kinds the node can serve.

    Raises InvalidCidError at once for anything malformed, so an API call fails with a clear
    4xx instead of looking for a block that cannot exist.
    """
    if isinstance(value, Cid):
        return value
    from multiformats import CID  # the maintained parser for every multibase / multicodec

    text = value
    if isinstance(text, str):
        text = text.strip()
        for prefix in ("/ipfs/", "ipfs://"):
            if text.startswith(prefix):
                text = text[len(prefix) :]
        text = text.split("/", 1)[0]
        if not text:
            raise InvalidCidError(
                M.CID_INVALID, expected="a CID", got="an empty string", hint=M.HINT_CID
            )
    try:
        cid = CID.decode(text)
    except Exception as exc:  # multiformats raises several kinds
        raise InvalidCidError(
            M.CID_INVALID, expected="a CIDv0 or CIDv1", got=repr(value)[:80], hint=M.HINT_CID
        ) from exc
    if cid.hashfun.code != SHA2_256:
        raise InvalidCidError(
            M.CID_HASH, expected="sha2-256", got=cid.hashfun.name, hint=M.HINT_CID
        )
    if cid.codec.name not in (DAG_PB, RAW):
        raise InvalidCidError(
            M.CID_CODEC, expected="dag-pb or raw", got=cid.codec.name, hint=M.HINT_CID
        )
    if len(cid.raw_digest) != 32:
        raise InvalidCidError(
            M.CID_INVALID,
            expected="a 32-byte sha2-256 digest",
            got=f"{len(cid.raw_digest)} bytes",
            hint=M.HINT_CID,
        )
    return Cid(bytes(cid))


def split_ipfs_path(path: str) -> tuple[Cid, list[str]]:
    """Split ``/ipfs/<cid>/a/b`` (or ``ipfs://<cid>/a/b``, ``<cid>/a/b``) into the root CID and
    its path segments."""
    text = path.strip()
    for prefix in ("/ipfs/", "ipfs://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    head, _, rest = text.partition("/")
    return parse_cid(head), [seg for seg in rest.split("/") if seg]
