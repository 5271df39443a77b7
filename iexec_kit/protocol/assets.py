"""Facts about PoCo's assets and their registries (ERC-721s, one per kind of asset).

An app, a dataset or a workerpool is a contract registered in its kind's registry, which mints
it an ERC-721 token whose id is the asset's address read as a number: whoever holds that token
owns the asset (the asset's owner() asks its registry), and transferring the token transfers
the asset.
"""

from __future__ import annotations

from eth_utils import to_checksum_address

ASSET_KINDS = ("app", "dataset", "workerpool")


def token_id(asset: str) -> int:
    """The registry token id of ``asset``: its address as a uint256."""
    return int(asset, 16)


def token_address(tokenid: int) -> str:
    """The asset's (checksummed) address for a registry token id."""
    return to_checksum_address(f"0x{tokenid:040x}")
