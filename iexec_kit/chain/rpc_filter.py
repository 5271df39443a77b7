"""Which JSON-RPC methods a chain opened to a LAN answers (``iexec-kit node --listen``).

A Hardhat dev node holds unlocked, funded accounts and answers methods that rewrite the whole
chain (``hardhat_setBalance``, ``evm_revert``, ...). This module is the chain's LAN policy alone,
plain data and one function: which methods are reads, which are writes that ask the workshop's
token, which are refused and why. The chain's LAN front (:mod:`iexec_kit.storage.lan`) applies
it; :data:`iexec_kit.storage.lan_policy.LAN_USES` says it in words (the banner, the README)::

    verdict("eth_call")             # Verdict("eth_call", "read", "")
    verdict("eth_sendTransaction")  # Verdict(..., "refused", "it signs with the node's ...")
"""

from __future__ import annotations

from dataclasses import dataclass

#: reads: they change nothing on the chain
READ_METHODS = frozenset(
    {
        "web3_clientVersion",
        "web3_sha3",
        "net_version",
        "net_listening",
        "net_peerCount",
        "eth_chainId",
        "eth_protocolVersion",
        "eth_syncing",
        "eth_mining",
        "eth_hashrate",
        "eth_accounts",  # the node's account list: public addresses (sending from them is refused)
        "eth_coinbase",
        "eth_blockNumber",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "eth_blobBaseFee",
        "eth_getBalance",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_getProof",
        "eth_getTransactionCount",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getBlockTransactionCountByNumber",
        "eth_getBlockTransactionCountByHash",
        "eth_getUncleCountByBlockNumber",
        "eth_getUncleCountByBlockHash",
        "eth_getTransactionByHash",
        "eth_getTransactionByBlockNumberAndIndex",
        "eth_getTransactionByBlockHashAndIndex",
        "eth_getTransactionReceipt",
        "eth_getLogs",
        "eth_call",
        "eth_estimateGas",
        "eth_createAccessList",
    }
)

#: the one way to send a transaction over the LAN: signed by its sender, sent raw
SEND_RAW_TRANSACTION = "eth_sendRawTransaction"

#: writes, for which the workshop's token is asked: a transaction signed by its sender, and the
#: node's filters (numbered 0x1, 0x2...: without the token anyone could read or uninstall another
#: client's filter)
WRITE_METHODS = frozenset(
    {
        SEND_RAW_TRANSACTION,
        "eth_newFilter",
        "eth_newBlockFilter",
        "eth_newPendingTransactionFilter",
        "eth_getFilterChanges",
        "eth_getFilterLogs",
        "eth_uninstallFilter",
    }
)

#: a method name longer than this is cut in refusals (a caller's string is not kept whole)
MAX_METHOD_SHOWN = 80

#: refused methods, by exact name or by prefix (a name ending in "_"), with the reason
REFUSED: tuple[tuple[str, str], ...] = (
    (
        "eth_sendTransaction",
        "it signs with the node's unlocked accounts, so anyone on the LAN could spend them; "
        f"sign the transaction with your own key and send it with {SEND_RAW_TRANSACTION}",
    ),
    (
        "eth_sign",
        "it signs with the node's unlocked keys; sign with your own key, off the node",
    ),
    ("eth_signTransaction", "it signs with the node's unlocked keys; sign with your own key"),
    ("eth_signTypedData", "it signs with the node's unlocked keys; sign with your own key"),
    ("personal_", "it uses or unlocks the node's own accounts"),
    (
        "hardhat_",
        "it rewrites the chain for the whole room (balances, code, impersonation, reset)",
    ),
    ("evm_", "it moves the whole room's chain (clock, mining, snapshots and reverts)"),
    ("debug_", "its traces are heavy enough to stall the node for everyone"),
    ("anvil_", "it rewrites the chain for the whole room"),
    ("miner_", "it changes how the node mines"),
    ("admin_", "it administers the node"),
    ("txpool_", "it exposes the node's pending pool"),
)

#: the JSON-RPC error code of a refused method (geth answers -32601 for a disabled module)
REFUSED_CODE = -32601
#: the code of a write that came without the workshop's token (EIP-1193's "Unauthorized")
NO_TOKEN_CODE = 4100


@dataclass(frozen=True)
class Verdict:
    """What the filter does with a method: ``kind`` is "read", "write" or "refused"."""

    method: str
    kind: str
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.kind != "refused"


def verdict(method) -> Verdict:
    """The filter's answer for ``method`` (any value: a non-string is refused)."""
    if not isinstance(method, str) or not method:
        shown = str(method)[:MAX_METHOD_SHOWN]
        return Verdict(shown, "refused", "a JSON-RPC request names its method as a string")
    if method in WRITE_METHODS:
        return Verdict(method, "write")
    if method in READ_METHODS:
        return Verdict(method, "read")
    shown = method if len(method) <= MAX_METHOD_SHOWN else method[:MAX_METHOD_SHOWN] + "…"
    for name, reason in REFUSED:
        if method == name or (name.endswith("_") and method.startswith(name)):
            return Verdict(shown, "refused", reason)
        if method.startswith(name + "_v"):  # eth_signTypedData_v4 and its siblings
            return Verdict(shown, "refused", reason)
    return Verdict(
        shown,
        "refused",
        f"it is not on the LAN's list of reads (only reads, {SEND_RAW_TRANSACTION} and the "
        "node's filters pass, the last two with the workshop's token)",
    )


def refusal_message(v: Verdict) -> str:
    """The sentence a refused caller reads in the JSON-RPC error."""
    return f"{v.method} is refused over the workshop's LAN: {v.reason}"


__all__ = [
    "NO_TOKEN_CODE",
    "READ_METHODS",
    "REFUSED",
    "REFUSED_CODE",
    "SEND_RAW_TRANSACTION",
    "WRITE_METHODS",
    "Verdict",
    "refusal_message",
    "verdict",
]
