"""The owner's authorization to take an order off the book: an EIP-712 signature.

The owner signs ``UnpublishOrder(bytes32 orderHash,uint256 deadline)`` in the domain
{name "iExec Order Book", version "1", chainId, verifyingContract = the hub}. Its own domain name
means that the signature cannot pass for an order or for a manageXOrder operation on chain. The
deadline (unix seconds, at most :data:`MAX_VALIDITY` ahead) bounds replays: after it, a copy of
the signature cannot remove the same order if its owner publishes it again.
Unpublishing only removes the order from the book; cancelling it on chain is
``hub.cancel_order`` (after which no book can match it).
"""

from __future__ import annotations

import time

from eth_abi import encode
from eth_utils import keccak

from iexec_kit.poco.orders import Domain

NAME, VERSION = "iExec Order Book", "1"
TYPE = "UnpublishOrder(bytes32 orderHash,uint256 deadline)"
MAX_VALIDITY = 3600  # seconds
DEFAULT_VALIDITY = 300


def book_domain(order_domain: Domain) -> Domain:
    """The order book's EIP-712 domain for a hub (same chain and hub, another name)."""
    return Domain(
        chain_id=order_domain.chain_id,
        verifying_contract=order_domain.verifying_contract,
        name=NAME,
        version=VERSION,
    )


def _bytes32(order_hash: str | bytes) -> bytes:
    return bytes.fromhex(order_hash[2:]) if isinstance(order_hash, str) else bytes(order_hash)


def typed_data(order_domain: Domain, order_hash: str | bytes, deadline: int) -> dict:
    """The full EIP-712 message a wallet would show."""
    from iexec_kit.protocol.eip712 import typed_data as typed

    return typed(
        "UnpublishOrder",
        (("orderHash", "bytes32"), ("deadline", "uint256")),
        book_domain(order_domain).as_typed(),
        {"orderHash": _bytes32(order_hash), "deadline": deadline},
    )


def digest(order_domain: Domain, order_hash: str | bytes, deadline: int) -> bytes:
    """The EIP-712 digest the owner signs."""
    struct = keccak(
        encode(
            ["bytes32", "bytes32", "uint256"],
            [keccak(TYPE.encode()), _bytes32(order_hash), deadline],
        )
    )
    return keccak(b"\x19\x01" + book_domain(order_domain).separator() + struct)


def sign(
    key: bytes, order_domain: Domain, order_hash: str | bytes, deadline: int | None = None
) -> tuple[bytes, int]:
    """(signature, deadline): the authorization to unpublish ``order_hash``, valid until
    ``deadline`` (default: :data:`DEFAULT_VALIDITY` seconds from now)."""
    from eth_account import Account

    deadline = int(time.time()) + DEFAULT_VALIDITY if deadline is None else deadline
    sign_hash = getattr(Account, "unsafe_sign_hash", None) or Account._sign_hash
    sig = sign_hash(digest(order_domain, order_hash, deadline), key)
    return bytes(sig.signature), deadline


def signer(
    signature: bytes, order_domain: Domain, order_hash: str | bytes, deadline: int
) -> str | None:
    """Who signed this authorization (None if the signature is malformed)."""
    from eth_account import Account

    try:
        return Account._recover_hash(
            digest(order_domain, order_hash, deadline), signature=bytes(signature)
        )
    except Exception:  # noqa: BLE001 - a malformed signature recovers to nobody
        return None
