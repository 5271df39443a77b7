"""The facilitator's view of a workerpool at work: who is connected, what each task got, who
earned what. Read only, no secret (no token, no key): what a projector may show.

The scheduler service (:class:`~iexec_kit.actors.pool.PoolService`) serves it as ``GET /pool``
(:func:`pool_view`, JSON); anyone reads it back as a :class:`PoolSnapshot` (a dataclass with a
text repr)::

    from iexec_kit.actors.board import pool_snapshot
    snap = pool_snapshot("http://127.0.0.1:7000")   # the scheduler's URL
    print(snap)                                     # workers, tasks, consensus, earnings

What it holds, and where each fact comes from:

- workers: the scheduler's registrations (name, behaviour, alive, tasks queued and computing)
  and the chain (score, stake and locked stake, from ``viewScore`` and ``viewAccount``);
- tasks: the chain (status, contributors and each contribution's status and result hash, the
  consensus value, the result's location) and the scheduler (who is still computing it);
- earnings: the hub's ``Reward`` and ``Seize`` events for each worker, read from the chain
  (so a restarted scheduler still shows them).

Chain reads are cached per block (a task COMPLETED or FAILED is read once), and the logs are
scanned from the last block seen, so a board refreshing every second costs the chain little.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.protocol.units import nrlc

#: the view's format (GET /pool's "version")
VIEW_VERSION = 2


@dataclass(frozen=True)
class BoardWorker:
    """One worker as the board shows it (amounts in nRLC)."""

    name: str
    address: str
    behaviour: str
    alive: bool
    queued: int
    computing: tuple[str, ...]
    score: int | None = None
    stake: int | None = None
    locked: int | None = None
    earned: int = 0  # rewards received (Reward events)
    lost: int = 0  # stake seized (Seize events)
    contributions: int = 0  # contributions seen on this board's tasks


@dataclass(frozen=True)
class BoardContribution:
    """One worker's part in a task: ``status`` is the chain's (CONTRIBUTED, PROVED, REJECTED) or
    "computing" (authorized, nothing on chain yet); ``agrees`` once a consensus exists."""

    name: str
    address: str
    status: str
    result_hash: str | None = None
    agrees: bool | None = None


@dataclass(frozen=True)
class BoardTask:
    """One task: its chain status, contributions and consensus."""

    taskid: str
    dealid: str
    idx: int
    status: str
    trust: int
    contributions: tuple[BoardContribution, ...] = ()
    consensus: str | None = None
    winners: tuple[str, ...] = ()
    result: str | None = None  # where the result is (finalize's results)


@dataclass(frozen=True)
class PoolSnapshot:
    """The whole board at one moment (see the module docstring)."""

    workerpool: str
    block: int
    workers: tuple[BoardWorker, ...]
    tasks: tuple[BoardTask, ...]
    errors: tuple[str, ...] = ()
    totals: dict = field(default_factory=dict)  # tasks per status, RLC earned and lost

    @classmethod
    def from_dict(cls, d: dict) -> PoolSnapshot:
        """From ``GET /pool``'s JSON."""
        workers = tuple(
            BoardWorker(**{**w, "computing": tuple(w.get("computing", ()))})
            for w in d.get("workers", ())
        )
        tasks = tuple(
            BoardTask(
                **{
                    **t,
                    "contributions": tuple(
                        BoardContribution(**c) for c in t.get("contributions", ())
                    ),
                    "winners": tuple(t.get("winners", ())),
                }
            )
            for t in d.get("task_list", ())
        )
        return cls(
            d.get("workerpool", ""),
            int(d.get("block", 0)),
            workers,
            tasks,
            tuple(d.get("errors", ())),
            dict(d.get("totals", {})),
        )

    def worker(self, name: str) -> BoardWorker:
        """The worker called ``name`` (KeyError when it never registered)."""
        for w in self.workers:
            if w.name == name:
                return w
        raise KeyError(name)

    def __str__(self) -> str:
        def rlc(x):
            return "?" if x is None else nrlc(x)

        lines = [f"workerpool {self.workerpool} at block {self.block}"]
        lines.append(
            f"{len([w for w in self.workers if w.alive])}/{len(self.workers)} workers connected"
        )
        for w in self.workers:
            state = "connected" if w.alive else "gone"
            busy = f", computing {len(w.computing)}" if w.computing else ""
            score = "?" if w.score is None else w.score
            lines.append(
                f"  {w.name:<10} {w.behaviour:<9} {state:<9} score {score:>3}"
                f"  stake {rlc(w.stake)} (locked {rlc(w.locked)})  earned {nrlc(w.earned)}"
                f"  lost {nrlc(w.lost)}{busy}"
            )
        counts = ", ".join(f"{n} {s}" for s, n in self.totals.get("tasks", {}).items())
        lines.append(f"{len(self.tasks)} tasks" + (f" ({counts})" if counts else ""))
        for t in self.tasks:
            parts = " ".join(
                f"{c.name}:{c.status}{'' if c.agrees is None else ('+' if c.agrees else '-')}"
                for c in t.contributions
            )
            consensus = f" consensus {t.consensus[:10]}…" if t.consensus else ""
            lines.append(f"  task {t.idx} {t.status:<10} trust {t.trust}{consensus}  {parts}")
        for e in self.errors:
            lines.append(f"  error: {e}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def as_dict(self) -> dict:
        return asdict(self)


def pool_snapshot(url: str, *, timeout: float = 10.0) -> PoolSnapshot:
    """The board of the scheduler at ``url`` (``GET /pool``), as a :class:`PoolSnapshot`."""
    import requests

    from iexec_kit.errors import KitValueError

    res = requests.get(url.rstrip("/") + "/pool", timeout=timeout)
    if res.status_code != 200:
        raise KitValueError(
            "the scheduler's board (GET /pool)",
            expected="HTTP 200 with the pool's view",
            got=f"HTTP {res.status_code}: {res.text[:200]}",
            hint="give the scheduler's own URL (iexec-kit node prints it: scheduler API)",
        )
    return PoolSnapshot.from_dict(res.json())


# ----- the service's side: reading the chain, cached ---------------------------------------------


class BoardCache:
    """What the board read from the chain, kept between refreshes (one per service)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.block = -1
        self.final: dict[str, BoardTask] = {}  # COMPLETED / FAILED tasks: read once
        self.tasks: dict[str, BoardTask] = {}  # the others, as of self.block
        self.accounts: dict[str, tuple[int, int, int]] = {}  # address -> score, stake, locked
        self.scanned = -1  # the last block whose Reward / Seize logs were read
        self.earned: dict[str, int] = {}
        self.lost: dict[str, int] = {}


def pool_view(service) -> dict:
    """``GET /pool``: the service's board as JSON (see :class:`PoolSnapshot`). The scheduler's
    first-version keys stay (``workers`` with name, address, behaviour, alive, queued,
    computing; ``errors``)."""
    cache = service.__dict__.setdefault("_board_cache", BoardCache())
    hub = service.hub
    with service.lock:
        handles = list(service.handles.values())
    unread = None
    with cache.lock:
        try:
            block = hub.chain.block_number()
            if block != cache.block:
                _read_chain(service, cache, handles, block)
                cache.block = block
            else:  # a worker that joined since: its score and stake (no block was mined)
                _read_accounts(
                    hub, cache, [h for h in handles if h.address.lower() not in cache.accounts]
                )
        except Exception as exc:  # noqa: BLE001 - the board says it and shows what it has
            from iexec_kit.actors.worker import error_reason

            block, unread = cache.block, f"the chain could not be read: {error_reason(exc)}"
        computing = {}
        for h in handles:
            with h.lock:
                held = list(h.computing) + [a.spec.taskid for a in h.queue]
            for tid in held:
                computing.setdefault(tid, []).append(h)
        tasks = []
        for tid in _task_ids(service):
            t = cache.final.get(tid) or cache.tasks.get(tid)
            if t is None:
                continue
            on_chain = {c.address.lower() for c in t.contributions}
            extra = tuple(
                BoardContribution(h.name, h.address, "computing")
                for h in computing.get(tid, [])
                if h.address.lower() not in on_chain
            )
            tasks.append(
                asdict(t) | {"contributions": [asdict(c) for c in t.contributions + extra]}
            )
        contributed: dict[str, int] = {}
        for t in tasks:
            for c in t["contributions"]:
                if c["status"] != "computing":
                    contributed[c["address"].lower()] = contributed.get(c["address"].lower(), 0) + 1
        workers = []
        for h in handles:
            score, stake, locked = cache.accounts.get(h.address.lower(), (None, None, None))
            with h.lock:
                queued, held = len(h.queue), list(h.computing)
            workers.append(
                {
                    "name": h.name,
                    "address": h.address,
                    "behaviour": h.behaviour.value,
                    "alive": h.alive,
                    "queued": queued,
                    "computing": held,
                    "score": score,
                    "stake": stake,
                    "locked": locked,
                    "earned": cache.earned.get(h.address.lower(), 0),
                    "lost": cache.lost.get(h.address.lower(), 0),
                    "contributions": contributed.get(h.address.lower(), 0),
                }
            )
    statuses: dict[str, int] = {}
    for t in tasks:
        statuses[t["status"]] = statuses.get(t["status"], 0) + 1
    return {
        "version": VIEW_VERSION,
        "workerpool": service.workerpool,
        "block": block,
        "workers": workers,
        "tasks": len(tasks),
        "task_list": tasks,
        "errors": service.errors[-5:] + ([unread] if unread else []),
        "totals": {
            "tasks": statuses,
            "earned": sum(w["earned"] for w in workers),
            "lost": sum(w["lost"] for w in workers),
        },
    }


def _task_ids(service) -> list[str]:
    for _ in range(5):  # the scheduler's thread may add a deal's tasks meanwhile
        try:
            return list(service.scheduler.tasks)
        except RuntimeError:
            continue
    return []


def _read_chain(service, cache: BoardCache, handles, block: int) -> None:
    hub, scheduler = service.hub, service.scheduler
    names = {h.address.lower(): h.name for h in handles}
    _read_accounts(hub, cache, handles)
    cache.tasks = {}
    for tid in _task_ids(service):
        if tid in cache.final:
            continue
        dealid, idx = scheduler.tasks[tid]
        deal = scheduler.deals.get(dealid)
        trust = max(getattr(deal, "trust", 1), 1)
        try:
            task = hub.task(tid)
        except Exception:  # noqa: BLE001 - not initialized yet
            task = None
        if task is None or task.status == TaskStatus.UNSET:
            cache.tasks[tid] = BoardTask(tid, dealid, idx, TaskStatus.UNSET.name, trust)
            continue
        consensus = None if task.status == TaskStatus.ACTIVE else task.consensus_value
        contribs = []
        for w in task.contributors:
            c = hub.contribution(tid, w)
            agrees = None if consensus is None else c.result_hash == consensus
            if c.status == ContributionStatus.REJECTED:
                agrees = False
            contribs.append(
                BoardContribution(
                    names.get(w.lower()) or scheduler._name(w),
                    w,
                    c.status.name,
                    c.result_hash,
                    agrees,
                )
            )
        winners = tuple(c.name for c in contribs if c.agrees)
        result = _result_location(task.results) if task.status == TaskStatus.COMPLETED else None
        bt = BoardTask(
            tid, dealid, idx, task.status.name, trust, tuple(contribs), consensus, winners, result
        )
        if task.status in (TaskStatus.COMPLETED, TaskStatus.FAILED):
            cache.final[tid] = bt
        else:
            cache.tasks[tid] = bt
    _scan_money(hub, cache, block)


def _read_accounts(hub, cache: BoardCache, handles) -> None:
    for h in handles:
        try:
            acct = hub.account(h.address)
            cache.accounts[h.address.lower()] = (hub.score(h.address), acct.stake, acct.locked)
        except Exception:  # noqa: BLE001 - the board shows "?" rather than failing
            pass


def _result_location(results: bytes) -> str | None:
    import json

    try:
        return json.loads(bytes(results).decode()).get("location")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None


def _scan_money(hub, cache: BoardCache, block: int) -> None:
    """Add the Reward and Seize events of the blocks not scanned yet."""
    start = cache.scanned + 1
    if start > block:
        return
    events = hub.contract.events
    for ev, into in ((events.Reward, cache.earned), (events.Seize, cache.lost)):
        for log in ev.get_logs(from_block=start, to_block=block):
            owner = str(log["args"]["owner"]).lower()
            into[owner] = into.get(owner, 0) + int(log["args"]["amount"])
    cache.scanned = block


__all__ = [
    "BoardContribution",
    "BoardTask",
    "BoardWorker",
    "PoolSnapshot",
    "pool_snapshot",
    "pool_view",
]
