"""The chain layer: web3 on an in-process py-evm chain or an RPC node, the participants'
accounts, snapshots and time travel, the Solidity sources, their compiled artifacts, deployment."""

from iexec_kit.chain.accounts import DEFAULT_MNEMONIC, Participant, participants
from iexec_kit.chain.node import ETH, IN_PROCESS, Chain, Receipt

__all__ = [
    "Chain",
    "Receipt",
    "Participant",
    "participants",
    "DEFAULT_MNEMONIC",
    "ETH",
    "IN_PROCESS",
]
