"""CIDs for the kit's node: sha2-256 over dag-pb or raw blocks, built with `multiformats`."""

from __future__ import annotations

import hashlib

from multiformats import CID, multihash

from iexec_kit.storage import messages as M
from iexec_kit.storage.errors import InvalidCidError

DAG_PB = "dag-pb"
RAW = "raw"
SHA2_256 = 0x12


def cid_of_block(block: bytes, *, codec: str = DAG_PB, version: int = 0) -> CID:
    """The CID of a block: sha2-256 multihash, `codec`, version 0 (base58btc) or 1 (base32)."""
    mh = multihash.wrap(hashlib.sha256(block).digest(), "sha2-256")
    if version == 0:
        return CID("base58btc", 0, DAG_PB, mh)
    return CID("base32", 1, codec, mh)


def parse_cid(value: "str | bytes | CID") -> CID:
    """Parse a CID string (optionally ``/ipfs/<cid>``) or bytes; only kinds the node can serve.

    Raises InvalidCidError at once for anything malformed, so an API call fails with a clear
    4xx instead of looking for a block that cannot exist.
    """
    if isinstance(value, CID):
        cid = value
    else:
        text = value
        if isinstance(text, str):
            text = text.strip()
            if text.startswith("/ipfs/"):
                text = text[len("/ipfs/"):]
            text = text.split("/", 1)[0]
            if not text:
                raise InvalidCidError(M.CID_INVALID, expected="a CID", got="an empty string",
                                      hint=M.HINT_CID)
        try:
            cid = CID.decode(text)
        except Exception as exc:  # multiformats raises several kinds
            raise InvalidCidError(M.CID_INVALID, expected="a CIDv0 or CIDv1",
                                  got=repr(value)[:80], hint=M.HINT_CID) from exc
    if cid.hashfun.code != SHA2_256:
        raise InvalidCidError(M.CID_HASH, expected="sha2-256", got=cid.hashfun.name,
                              hint=M.HINT_CID)
    if cid.codec.name not in (DAG_PB, RAW):
        raise InvalidCidError(M.CID_CODEC, expected="dag-pb or raw", got=cid.codec.name,
                              hint=M.HINT_CID)
    if len(cid.raw_digest) != 32:
        raise InvalidCidError(M.CID_INVALID, expected="a 32-byte sha2-256 digest",
                              got=f"{len(cid.raw_digest)} bytes", hint=M.HINT_CID)
    return cid


def split_ipfs_path(path: str) -> tuple[CID, list[str]]:
    """Split ``/ipfs/<cid>/a/b`` (or ``<cid>/a/b``) into the root CID and its path segments."""
    text = path.strip()
    if text.startswith("/ipfs/"):
        text = text[len("/ipfs/"):]
    head, _, rest = text.partition("/")
    return parse_cid(head), [seg for seg in rest.split("/") if seg]
