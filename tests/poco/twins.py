"""Two hubs in lockstep for the differential tests: the kit's contracts and iExec's published PoCo
6.1.0, each on its own in-process chain with the same accounts, the same clock and the same
transactions.

What differs between the two chains by construction (contract addresses, hence the EIP-712
domain, the order hashes, the deal and task ids, the result hashes and seals) is compared through
*symbols*: each twin names every such value it creates ("app", "deal3", "deal3.task1",
"rh(deal3.task1,good)"...), and every view and event is normalized through its own twin's names
before the two are compared. Anything a twin cannot name stays raw, and so shows up as a
difference.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from eth_abi import decode
from eth_account import Account
from eth_utils import event_abi_to_log_topic, keccak, to_checksum_address

from iexec_kit.chain import artifacts, published
from iexec_kit.chain.node import DEFAULT_GAS
from iexec_kit.errors import ContractRevertError
from iexec_kit.poco import result_hash, result_seal, sign_authorization
from iexec_kit.poco.deals import Deal
from iexec_kit.poco.orders import (
    AppOrder,
    DatasetOrder,
    RequestOrder,
    RequestParams,
    WorkerpoolOrder,
)
from iexec_kit.poco.tasks import Contribution, Task
from iexec_kit.poco.views import AccountInfo
from iexec_kit.protocol.units import RLC

MAX_FEE = 100 * 10**9  # wei per gas: above any base fee the test's chains reach
KITTY = "0x99c2268479b93fDe36232351229815DF80837e23"
#: the results' callback data, and the digests workers compute: an honest one that is the
#: callback data's keccak (so a deal with a callback can be finalized), and a wrong one
CALLBACK_DATA = b"iexec-kit differential callback"
DIGESTS = {"good": keccak(CALLBACK_DATA), "bad": b"\xbb" * 32}
RESULTS = b'{"storage":"ipfs","location":"/ipfs/QmDifferential"}'
ORDER_TYPES = {"app": AppOrder, "dataset": DatasetOrder, "pool": WorkerpoolOrder}


@dataclass
class Outcome:
    """What one step did on one hub: every transaction's fate, and the events they emitted."""

    results: list = field(default_factory=list)  # "ok" or "revert", one per transaction sent
    events: list = field(default_factory=list)  # (emitter, event name, {arg: value}), raw
    touched: set = field(default_factory=set)  # raw addresses and ids named by the events
    raw_deals: list = field(default_factory=list)  # the ids OrdersMatched gave, raw
    wallets: set = field(default_factory=set)  # raw addresses named by the RLC token's events

    @property
    def reverted(self) -> bool:
        return "revert" in self.results


def _event_table() -> dict:
    """(topic0, number of topics) -> event ABI, over every ABI either chain's contracts have."""
    table = {}
    abis = [artifacts.hub_abi(), published.hub_abi(), artifacts.abi("RLC")]
    abis += [artifacts.abi(n) for n in published.REGISTRIES]
    abis += [published.abi(n) for n in published.REGISTRIES]
    for abi in abis:
        for e in abi:
            if e["type"] == "event":
                n = 1 + sum(1 for i in e["inputs"] if i["indexed"])
                table.setdefault((event_abi_to_log_topic(e), n), e)
    return table


EVENTS = _event_table()


class Twin:
    """One hub of the pair: its sandbox, and the names of what it created."""

    def __init__(self, sb, label: str):
        self.sb, self.hub, self.chain, self.label = sb, sb.hub, sb.chain, label
        self.names: dict[str, str] = {}  # lower-case hex value -> symbol
        self.values: dict[str, str] = {}  # symbol -> value as the chain gives it
        d = sb.deployment
        for p in sb.participants:
            self.name(p.name, p.address)
        self.name("kitty", KITTY)
        for sym, value in (
            ("hub", d.hub),
            ("rlc", d.rlc),
            ("appregistry", d.appregistry),
            ("datasetregistry", d.datasetregistry),
            ("workerpoolregistry", d.workerpoolregistry),
            ("app", sb.app_address),
            ("pool", sb.workerpool_address),
        ):
            self.name(sym, value)
        self.domain = self.hub.domain()
        self.orders: dict[str, object] = {}  # symbol -> signed order
        self.nonces: dict[str, int] = {}  # the next nonce of each sender (cleared on revert)

    # ----- symbols --------------------------------------------------------------------------
    def name(self, symbol: str, value) -> None:
        key = _key(value)
        self.names[key] = symbol
        self.values[symbol] = value

    def value(self, symbol: str):
        return self.values[symbol]

    def address(self, symbol: str) -> str:
        return to_checksum_address(self.values[symbol])

    def norm(self, v):
        """``v`` with every address and id this twin named replaced by its symbol."""
        if isinstance(v, (bytes, bytearray)) and len(v) in (20, 32):
            return self.names.get(_key(v), "0x" + bytes(v).hex())
        if isinstance(v, str) and v.startswith("0x") and len(v) in (42, 66):
            return self.names.get(v.lower(), v.lower())
        if isinstance(v, (bytes, bytearray)):
            return "0x" + bytes(v).hex()
        if isinstance(v, (list, tuple)):
            return tuple(self.norm(x) for x in v)
        if isinstance(v, dict):
            return {k: self.norm(x) for k, x in v.items()}
        if dataclasses.is_dataclass(v):
            return {f.name: self.norm(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if hasattr(v, "value") and hasattr(v, "name"):  # an IntEnum status
            return v.name
        return v

    def name_task_hashes(self, task_symbol: str, worker: str | None = None) -> None:
        """Name a task's result hashes, and the seals of ``worker`` (every worker's if None)."""
        taskid = self.values[task_symbol]
        workers = [worker] if worker else [p.name for p in self.sb.workers]
        for label, digest in DIGESTS.items():
            self.name(f"rh({task_symbol},{label})", result_hash(taskid, digest))
            for w in workers:
                seal = result_seal(self.address(w), taskid, digest)
                self.name(f"seal({task_symbol},{w},{label})", seal)

    # ----- orders ---------------------------------------------------------------------------
    def order(self, symbol: str, kind: str, fields: dict, signer: str | None):
        """Build the order ``fields`` describe (symbols resolved for this twin); sign it with
        ``signer``'s key for this hub (None: unsigned, for a presign); name its hash."""
        resolved = {k: self._resolve(v) for k, v in fields.items()}
        if kind == "request":
            resolved["params"] = RequestParams(args=resolved.pop("args", "")).to_json()
            order = RequestOrder(**resolved)
        else:
            order = ORDER_TYPES[kind](**resolved)
        if signer is not None:
            order = order.signed(self.sb.chain.participant(signer).key, self.domain)
        self.orders[symbol] = order
        self.name(symbol, order.hash(self.domain))
        return order

    def _resolve(self, v):
        if isinstance(v, str) and v in self.values:
            return self.address(v) if len(_key(self.values[v])) == 42 else self.values[v]
        return v

    # ----- transactions ---------------------------------------------------------------------
    def send(self, outcome: Outcome, fn, sender: str) -> dict | None:
        """Send ``fn`` as ``sender``; record its fate and its events in ``outcome``.

        Straight to the in-process chain (signed here, mined by eth-tester, its receipt read
        back), about a third faster than :meth:`Chain.transact`: the test compares only whether
        a transaction reverted, never why, so it needs no revert reason."""
        who = self.chain.participant(sender)
        tester = self.chain._tester
        if who.address not in self.nonces:
            self.nonces[who.address] = tester.get_nonce(who.address)
        tx = {
            "to": fn.address,
            "data": fn._encode_transaction_data(),
            "value": 0,
            "gas": DEFAULT_GAS,
            "nonce": self.nonces[who.address],
            "chainId": self.chain.chain_id,
            "maxFeePerGas": MAX_FEE,
            "maxPriorityFeePerGas": 10**9,
            "type": 2,
        }
        raw = Account.sign_transaction(tx, who.key).raw_transaction
        receipt = tester.get_transaction_receipt(tester.send_raw_transaction("0x" + raw.hex()))
        self.nonces[who.address] += 1
        if receipt["status"] != 1:
            outcome.results.append("revert")
            return None
        outcome.results.append("ok")
        for log in receipt["logs"]:
            outcome.events.append(self._event(log, outcome))
        return receipt

    def snapshot(self):
        return self.chain.snapshot()

    def revert(self, snapshot) -> None:
        self.chain.revert(snapshot)
        self.nonces.clear()

    def _event(self, log, outcome: Outcome):
        topics = [_raw(t) for t in log["topics"]]
        emitter = log["address"]
        abi = EVENTS.get((topics[0], len(topics))) if topics else None
        if abi is None:
            return (emitter, "unknown", {"topics": topics, "data": _raw(log["data"])})
        indexed = [i for i in abi["inputs"] if i["indexed"]]
        plain = [i for i in abi["inputs"] if not i["indexed"]]
        args = {}
        for inp, topic in zip(indexed, topics[1:]):
            args[inp["name"]] = decode([inp["type"]], topic)[0]
            if inp["name"] == "tokenId":  # a registry's token: the asset's address
                args["tokenId"] = to_checksum_address(topic[-20:])
        for inp, v in zip(plain, decode([i["type"] for i in plain], _raw(log["data"]))):
            args[inp["name"]] = v
        if abi["name"] == "OrdersMatched":
            outcome.raw_deals.append("0x" + args["dealid"].hex())
        from_rlc = _key(emitter) == _key(self.values["rlc"])
        for v in args.values():
            if isinstance(v, str) and v.startswith("0x") and len(v) == 42:
                outcome.touched.add(v.lower())
                if from_rlc:
                    outcome.wallets.add(v.lower())
            elif isinstance(v, bytes) and len(v) == 32:
                outcome.touched.add("0x" + v.hex())
        return (emitter, abi["name"], args)

    def manage(self, order, operation: int):
        """manageXOrder (0: presign, 1: cancel), sent by the order's owner: no signature."""
        return getattr(self.hub.fn, f"manage{order.TYPE_NAME}")((order.as_tuple(), operation, b""))

    def authorization(self, worker: str, task: str, signer: str = "scheduler") -> bytes:
        return sign_authorization(
            self.chain.participant(signer), self.address(worker), self.values[task]
        )

    # ----- views ----------------------------------------------------------------------------
    def call(self, fn):
        """A view's value, or the string "revert"."""
        try:
            return self.chain.call(fn)
        except ContractRevertError:
            return "revert"

    def account(self, symbol: str) -> dict:
        stake, locked = self.chain.call(self.hub.fn.viewAccount(self.address(symbol)))
        return {"stake": stake, "locked": locked}

    def wallet(self, symbol: str) -> int:
        return self.hub.wallet(self.address(symbol))

    def score(self, worker: str) -> int:
        return self.hub.score(self.address(worker))

    def task(self, symbol: str) -> Task:
        return self.hub.task(self.values[symbol])

    def contribution(self, task: str, worker: str) -> Contribution:
        return self.hub.contribution(self.values[task], self.address(worker))

    def deal(self, symbol: str) -> Deal:
        return self.hub.deal(self.values[symbol])

    def result_for(self, task: str):
        return self.call(self.hub.fn.resultFor(bytes.fromhex(self.values[task][2:])))

    def consumed(self, order: str) -> int:
        return self.chain.call(self.hub.fn.viewConsumed(_b32(self.values[order])))

    def presigned(self, order: str) -> str:
        return self.chain.call(self.hub.fn.viewPresigned(_b32(self.values[order])))


def _raw(v) -> bytes:
    return bytes.fromhex(v[2:]) if isinstance(v, str) else bytes(v)


def _b32(v) -> bytes:
    return bytes.fromhex(v[2:]) if isinstance(v, str) else bytes(v)


def _key(value) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return str(value).lower()


def flatten(prefix: str, v) -> dict:
    """{path: leaf} of a normalized view, so that two views are compared field by field."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            out.update(flatten(f"{prefix}.{k}", x))
        return out
    return {prefix: v}


__all__ = [
    "AccountInfo",
    "CALLBACK_DATA",
    "DIGESTS",
    "KITTY",
    "Outcome",
    "RESULTS",
    "RLC",
    "Twin",
    "flatten",
]
