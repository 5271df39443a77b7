"""Units and addresses: RLC has 9 decimals; amounts on chain are nRLC."""

from __future__ import annotations

#: RLC has 9 decimals: amounts on chain are nRLC, and one RLC is 10**9 of them.
RLC_DECIMALS = 9
RLC = 10**RLC_DECIMALS
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def nrlc(amount: int) -> str:
    """An amount in words: '5 nRLC' below a milli-RLC, else '1.5 RLC'."""
    if abs(amount) < 10**6:
        return f"{amount:,} nRLC"
    return f"{amount / RLC:,.9g} RLC"


def same_address(a: str, b: str) -> bool:
    """Two addresses are the same account (checksum or not)."""
    return a.lower() == b.lower()


def is_zero_address(address: str) -> bool:
    """The zero address: "no restriction", "no dataset"."""
    return same_address(address, ZERO_ADDRESS)
