"""Deterministic participants: one account per role, from a fixed mnemonic.

The default mnemonic is the one Hardhat and Foundry use for their dev accounts ("test ... junk"),
so the same addresses hold ETH on the in-process chain and on a fresh Hardhat node. It is public:
never send real funds to these addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
HD_PATH = "m/44'/60'/0'/0"

# index on the HD path -> role; workers follow from index len(ROLES)
ROLES = ("deployer", "requester", "app_developer", "dataset_owner", "scheduler")
ROLE_TITLES = {
    "deployer": "network operator (deploys the hub)",
    "requester": "requester (buys executions)",
    "app_developer": "app developer (sells the app)",
    "dataset_owner": "dataset owner (sells data)",
    "scheduler": "workerpool manager (the scheduler)",
    "worker": "worker (computes, stakes RLC)",
}
DEFAULT_WORKERS = 5


@dataclass(frozen=True)
class Participant:
    """One actor of the network: a role, a short name, an address and its private key."""

    role: str
    name: str
    index: int
    address: str
    key: bytes

    def __repr__(self) -> str:  # never print the key
        return f"Participant({self.name}, {self.address})"

    @property
    def account(self):
        """The eth-account LocalAccount (signs transactions and messages)."""
        from eth_account import Account

        return Account.from_key(self.key)


@lru_cache(maxsize=8)
def derive_keys(mnemonic: str, count: int) -> tuple[bytes, ...]:
    """Private keys m/44'/60'/0'/0/i for i < count (the seed is derived once)."""
    from eth_account.hdaccount import key_from_seed, seed_from_mnemonic

    seed = seed_from_mnemonic(mnemonic, "")
    return tuple(key_from_seed(seed, f"{HD_PATH}/{i}") for i in range(count))


def participants(
    workers: int = DEFAULT_WORKERS, mnemonic: str = DEFAULT_MNEMONIC
) -> list[Participant]:
    """The deployer, requester, app developer, dataset owner, scheduler, then ``workers``
    workers."""
    from eth_keys import keys as eth_keys

    if workers < 0:
        from iexec_kit.errors import KitValueError

        raise KitValueError(
            "the number of workers cannot be negative", expected=">= 0", got=str(workers)
        )
    out = []
    for i, key in enumerate(derive_keys(mnemonic, len(ROLES) + workers)):
        address = eth_keys.PrivateKey(key).public_key.to_checksum_address()
        if i < len(ROLES):
            out.append(Participant(ROLES[i], ROLES[i], i, address, key))
        else:
            n = i - len(ROLES) + 1
            out.append(Participant("worker", f"worker{n}", i, address, key))
    return out
