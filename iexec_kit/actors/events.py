"""Typed events of a workerpool at work, and the one stream the CLI and the notebooks read.

Every state change a learner should see is a small frozen dataclass: what happened, to which
task or deal, by whom, and, when a transaction did it, its hash, block and gas (``tx``). The
actors (scheduler, workers, the drive) emit them into an :class:`EventStream`; views subscribe
to it (``stream.subscribe(callback)``) or read it (``for event in stream``)::

    stream = EventStream()
    stream.subscribe(lambda e: print(e.describe()))
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import ClassVar

from iexec_kit.protocol.units import RLC


@dataclass(frozen=True)
class Tx:
    """The transaction behind an event: its hash, block number and gas used."""

    hash: str
    block: int
    gas: int

    @classmethod
    def of(cls, receipt) -> Tx | None:
        """From a :class:`iexec_kit.chain.node.Receipt` (None stays None)."""
        return None if receipt is None else cls(receipt.tx_hash, receipt.block, receipt.gas_used)


def _short(x: str, n: int = 10) -> str:
    return x if len(x) <= n + 2 else x[: n + 2] + "…"


@dataclass(frozen=True)
class Event:
    """Base of every event: ``kind`` names it (snake_case), ``tx`` is its transaction (or None),
    ``time`` the chain timestamp when it was emitted."""

    kind: ClassVar[str] = "event"
    #: the PoCo operation whose gas this event's transaction measures (None: no transaction)
    operation: ClassVar[str | None] = None

    def describe(self) -> str:
        """One line for a terminal or a log."""
        return self.kind.replace("_", " ")

    def as_dict(self) -> dict:
        """Plain data (JSON-ready), with the event's kind."""
        return {"kind": self.kind} | asdict(self)


def _event(kind: str, operation: str | None = None):
    def wrap(cls):
        cls.kind, cls.operation = kind, operation
        return dataclass(frozen=True)(cls)

    return wrap


@_event("orders_published")
class OrdersPublished(Event):
    """The app developer and the scheduler signed and published their orders (step 0)."""

    app_order: str
    app_price: int
    workerpool_order: str
    workerpool_price: int
    volume: int
    trust: int
    category: int
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return (
            f"orders published: app order {_short(self.app_order)} at "
            f"{self.app_price / RLC:g} RLC, "
            f"workerpool order {_short(self.workerpool_order)} at "
            f"{self.workerpool_price / RLC:g} RLC "
            f"(volume {self.volume}, trust {self.trust}, category {self.category})"
        )


@_event("network_ready")
class NetworkReady(Event):
    """The sandbox is up: which chain, hub, app and workerpool the run uses."""

    chain: str
    hub: str
    app: str
    app_name: str
    workerpool: str
    storage: str
    input: str = ""
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return (
            f"{self.chain}, hub {self.hub}\n"
            f"app {self.app_name} at {self.app}, workerpool {self.workerpool}\n"
            f"storage: {self.storage}" + (f"\ninput: {self.input}" if self.input else "")
        )


@_event("deposited", "deposit")
class Deposited(Event):
    """RLC moved from a wallet to the hub (approveAndCall, one transaction): a requester's
    budget, a worker's or the scheduler's stake."""

    account: str
    name: str
    amount: int
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        gas = f"  tx {self.tx.hash[:18]}…  gas {self.tx.gas:,}" if self.tx else ""
        return f"{self.name} deposits {self.amount / RLC:,.9g} RLC{gas}"


@_event("deal_created", "matchOrders")
class DealCreated(Event):
    """matchOrders made a deal: funds are locked, the scheduler is noticed (SchedulerNotice)."""

    dealid: str
    volume: int
    price_per_task: int
    trust: int
    requester: str
    workerpool: str
    time: int = 0
    tx: Tx | None = None

    @classmethod
    def of(cls, match, time: int = 0) -> DealCreated:
        """From a :class:`iexec_kit.poco.matching.Match` (what ``hub.match_orders`` returns)."""
        deal = match.deal
        return cls(
            match.dealid,
            match.volume,
            deal.price_per_task,
            deal.trust,
            deal.requester,
            deal.workerpool.pointer,
            time=time,
            tx=Tx.of(match.receipt),
        )

    def describe(self) -> str:
        return (
            f"deal {self.dealid} created: {self.volume} task(s) at "
            f"{self.price_per_task / RLC:g} RLC, "
            f"trust {self.trust}"
        )


@_event("task_initialized", "initialize")
class TaskInitialized(Event):
    """The scheduler initialized a task of a deal: its deadlines start."""

    taskid: str
    dealid: str
    idx: int
    contribution_deadline: int
    final_deadline: int
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return f"task {self.idx} {_short(self.taskid)} initialized (ACTIVE)"


@_event("worker_authorized")
class WorkerAuthorized(Event):
    """The scheduler signed an authorization for a worker on a task (off-chain, EIP-191)."""

    taskid: str
    worker: str
    name: str
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return f"  {self.name} authorized on task {_short(self.taskid)}"


@_event("app_computed")
class AppComputed(Event):
    """A worker ran the app: the digest of its result (what it will commit)."""

    taskid: str
    worker: str
    name: str
    behaviour: str
    digest: str
    seconds: float
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return (
            f"  {self.name} ({self.behaviour}) computed digest {_short(self.digest)} "
            f"in {self.seconds:.2f} s"
        )


@_event("worker_failed")
class WorkerFailed(Event):
    """A worker could not contribute: it crashed, or its inputs or app failed."""

    taskid: str
    worker: str
    name: str
    behaviour: str
    reason: str
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return f"  {self.name} ({self.behaviour}) failed: {self.reason.splitlines()[0]}"


@_event("contribution_committed", "contribute")
class ContributionCommitted(Event):
    """A worker committed resultHash and resultSeal (not its digest) and locked its stake."""

    taskid: str
    worker: str
    name: str
    behaviour: str
    result_hash: str
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return f"  {self.name} ({self.behaviour}) contributed hash {_short(self.result_hash)}"


@_event("consensus_reached")
class ConsensusReached(Event):
    """Enough credibility on one result hash: the task is REVEALING."""

    taskid: str
    consensus: str
    winners: tuple[str, ...]
    reveal_deadline: int
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return (
            f"task {_short(self.taskid)} consensus on {_short(self.consensus)}: "
            f"{len(self.winners)} winner(s), REVEALING"
        )


@_event("contribution_revealed", "reveal")
class ContributionRevealed(Event):
    """A winner revealed its digest: its contribution is PROVED."""

    taskid: str
    worker: str
    name: str
    digest: str
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return f"  {self.name} revealed digest {_short(self.digest)}"


@_event("result_uploaded")
class ResultUploaded(Event):
    """A revealed worker uploaded the result through the result proxy (pinned on IPFS)."""

    taskid: str
    worker: str
    name: str
    storage: str
    location: str
    cid: str | None
    size: int
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return f"  {self.name} uploaded the result: {self.location} ({self.size:,} bytes)"


@_event("task_finalized", "finalize")
class TaskFinalized(Event):
    """The scheduler finalized the task with its results: COMPLETED, rewards paid."""

    taskid: str
    results: str
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return f"task {_short(self.taskid)} finalized (COMPLETED): {self.results}"


@_event("task_reopened", "reopen")
class TaskReopened(Event):
    """No winner revealed before the reveal deadline: winners rejected, the task is ACTIVE again."""

    taskid: str
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return f"task {_short(self.taskid)} reopened: no winner revealed in time (ACTIVE again)"


@_event("task_claimed", "claim")
class TaskClaimed(Event):
    """Past the final deadline: the task FAILED and the requester is refunded."""

    taskid: str
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return (
            f"task {_short(self.taskid)} claimed after its final deadline: FAILED, "
            "requester refunded"
        )


@_event("reward_paid")
class RewardPaid(Event):
    """The hub credited an account (Reward event of finalize or claim)."""

    taskid: str
    account: str
    name: str
    amount: int
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return f"  reward {self.amount / RLC:,.9g} RLC to {self.name}"


@_event("stake_seized")
class StakeSeized(Event):
    """The hub seized locked RLC (Seize event). ``reason``: "payment" (the requester's locked
    price, paid out at finalize), "stake lost" (a worker outside the consensus), "workerpool
    stake" (a failed task's pool stake, into the kitty)."""

    taskid: str
    account: str
    name: str
    amount: int
    reason: str = "stake lost"
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        if self.reason == "payment":
            return f"  {self.amount / RLC:,.9g} RLC of {self.name}'s locked funds paid out"
        return f"  {self.reason}: {self.amount / RLC:,.9g} RLC seized from {self.name}"


@_event("deal_refused")
class DealRefused(Event):
    """The scheduler cannot serve a deal (its request params are unusable, or it cannot be
    read): none of its tasks is given to a worker; past their final deadline they are claimed
    (FAILED, the requester refunded). The scheduler goes on with the other deals."""

    dealid: str
    reason: str
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return (
            f"deal {_short(self.dealid)} refused: {self.reason.splitlines()[0]}; its tasks will "
            "be claimed after their final deadline (requester refunded)"
        )


@_event("scheduler_error")
class SchedulerError(Event):
    """The scheduler hit an unexpected error on one task (a bug of the kit): the task is left
    alone, to be claimed after its final deadline; the other tasks go on."""

    taskid: str
    reason: str
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return (
            f"task {_short(self.taskid)}: scheduler error ({self.reason.splitlines()[0]}), "
            "a bug of the kit, please report it; the task is left to be claimed"
        )


@_event("time_travelled")
class TimeTravelled(Event):
    """Nothing could move until a deadline: the drive moved chain time forward."""

    seconds: int
    reason: str
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return f"... {self.seconds:,} s of chain time pass ({self.reason})"


@_event("result_downloaded")
class ResultDownloaded(Event):
    """The requester downloaded and unpacked a task's result."""

    taskid: str
    location: str
    path: str
    digest_ok: bool
    time: int = 0
    tx: Tx | None = None

    def describe(self) -> str:
        return (
            f"result of {_short(self.taskid)} downloaded from {self.location} to {self.path} "
            f"({'digest = consensus' if self.digest_ok else 'DIGEST DIFFERS FROM THE CONSENSUS'})"
        )


EVENT_TYPES: dict[str, type] = {
    c.kind: c
    for c in (
        NetworkReady,
        Deposited,
        OrdersPublished,
        DealCreated,
        TaskInitialized,
        WorkerAuthorized,
        AppComputed,
        WorkerFailed,
        ContributionCommitted,
        ConsensusReached,
        ContributionRevealed,
        ResultUploaded,
        TaskFinalized,
        TaskReopened,
        TaskClaimed,
        RewardPaid,
        StakeSeized,
        DealRefused,
        SchedulerError,
        TimeTravelled,
        ResultDownloaded,
    )
}


class EventStream:
    """Where the actors publish events: callbacks get each one as it happens; iterating gives
    the history. ``stream.of(TaskFinalized)`` filters by type."""

    def __init__(self):
        self._events: list[Event] = []
        self._subscribers: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every later event; return a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, event: Event) -> Event:
        """Record ``event`` and hand it to every subscriber."""
        with self._lock:
            self._events.append(event)
        for cb in list(self._subscribers):
            cb(event)
        return event

    def __iter__(self) -> Iterator[Event]:
        return iter(list(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def since(self, n: int) -> list[Event]:
        """Events from index ``n`` on (for a view that remembers how many it has shown)."""
        return self._events[n:]

    def of(self, *types: type) -> list[Event]:
        """The events of these types, in order."""
        return [e for e in self._events if isinstance(e, types)]

    def gas_by_operation(self) -> dict[str, list[int]]:
        """Gas used per PoCo operation (matchOrders, initialize, contribute, ...)."""
        out: dict[str, list[int]] = {}
        for e in self._events:
            if e.operation and getattr(e, "tx", None) is not None:
                out.setdefault(e.operation, []).append(e.tx.gas)
        return out


__all__ = [c.__name__ for c in EVENT_TYPES.values()] + ["Event", "EventStream", "Tx", "EVENT_TYPES"]
