"""Deals as the hub records them (PoCo's Deal struct), as a frozen view."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

from iexec_kit.poco.orders import RequestParams


@dataclass(frozen=True)
class Resource:
    """One side of a deal: the asset, its owner, the price agreed per task (nRLC)."""

    pointer: str
    owner: str
    price: int


@dataclass(frozen=True)
class Deal:
    """A deal: what matchOrders recorded. ``bot_first``..``bot_first + bot_size - 1`` are its task
    indexes (a "bag of tasks"); each task's id is keccak256(dealid, idx)."""

    dealid: str
    app: Resource
    dataset: Resource
    workerpool: Resource
    trust: int
    category: int
    tag: str
    requester: str
    beneficiary: str
    callback: str
    params: str
    start_time: int
    bot_first: int
    bot_size: int
    worker_stake: int
    scheduler_reward_ratio: int
    # who pays: the requester, or the caller of sponsorMatchOrders (PoCo v6). Read from the chain
    # it is always set; the default keeps Deal(...) built by hand (views, tests) as before
    sponsor: str = ""

    @classmethod
    def from_chain(cls, dealid: bytes | str, raw) -> Deal:
        app, dataset, pool = (Resource(*r) for r in raw[:3])
        (
            trust,
            category,
            tag,
            requester,
            beneficiary,
            callback,
            params,
            start,
            first,
            size,
            stake,
            ratio,
            sponsor,
        ) = raw[3:]
        did = dealid if isinstance(dealid, str) else "0x" + bytes(dealid).hex()
        return cls(
            did,
            app,
            dataset,
            pool,
            trust,
            category,
            "0x" + bytes(tag).hex(),
            requester,
            beneficiary,
            callback,
            params,
            start,
            first,
            size,
            stake,
            ratio,
            sponsor,
        )

    @property
    def exists(self) -> bool:
        return self.app.pointer != "0x0000000000000000000000000000000000000000"

    @property
    def sponsored(self) -> bool:
        """True when someone other than the requester pays (sponsorMatchOrders)."""
        return bool(self.sponsor) and self.sponsor.lower() != self.requester.lower()

    @property
    def price_per_task(self) -> int:
        """What the sponsor (the requester, unless sponsored) pays for one task (app + dataset +
        workerpool), nRLC."""
        return self.app.price + self.dataset.price + self.workerpool.price

    @property
    def requester_lock(self) -> int:
        """RLC locked from the sponsor (the requester, unless sponsored) at matching: price per
        task x volume."""
        return self.price_per_task * self.bot_size

    def task_id(self, idx: int) -> str:
        """The id of task ``idx`` of this deal: keccak256(dealid ++ idx)."""
        return (
            "0x"
            + keccak(encode(["bytes32", "uint256"], [bytes.fromhex(self.dealid[2:]), idx])).hex()
        )

    def task_ids(self) -> list[str]:
        return [self.task_id(i) for i in range(self.bot_first, self.bot_first + self.bot_size)]

    def request_params(self) -> RequestParams:
        return RequestParams.from_json(self.params)
