"""The deterministic drive: a scheduler and its workers moved forward in one process.

``Drive(scheduler).events()`` is a generator of events for live views (a notebook cell, the
CLI); ``Drive(scheduler).run()`` runs until every task is COMPLETED or FAILED. One round:

1. the scheduler does what is due on chain (notice deals, initialize, authorize, reveal,
   finalize, reopen, claim);
2. the newly authorized workers compute (their apps run in threads, at most ``parallel`` at
   once), then report and contribute in authorization order, so the chain sees the same
   sequence every run;
3. when nothing can move, chain time jumps to the next deadline (a slow worker's delay, a
   reveal deadline, a final deadline): a timeout scenario takes seconds, not hours.

``Drive(scheduler).serve(stop)`` is the same round for ever, in real time, for a long-running
network (``iexec-kit node``): deals come whenever someone buys one (iExec's CLI, a notebook),
nothing travels in time, and when nothing can move the drive sleeps a moment and looks again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Event as StopFlag

from iexec_kit.actors.events import Event, EventStream, TimeTravelled, WorkerFailed
from iexec_kit.actors.scheduler import Assignment, Scheduler
from iexec_kit.actors.worker import Behaviour, Computation, error_reason
from iexec_kit.errors import IexecKitError, KitValueError


class DriveStalledError(IexecKitError, RuntimeError):
    """The drive went round too many times without finishing (a bug, or a task that cannot end)."""


class Drive:
    """Moves ``scheduler`` and its workers until every task of its deals is done."""

    def __init__(self, scheduler: Scheduler, *, parallel: int = 2, max_rounds: int = 500):
        self.scheduler = scheduler
        self.chain = scheduler.hub.chain
        self.stream = scheduler.stream
        self.parallel = max(1, parallel)
        self.max_rounds = max_rounds
        self.pending: list[tuple[int, Assignment]] = []  # (chain time when ready, assignment)

    def restart_scheduler(self, scheduler: Scheduler) -> None:
        """Swap in a new scheduler (a restart): it knows only what the chain says."""
        self.scheduler = scheduler

    def events(self) -> Iterator[Event]:
        """Run to the end, yielding each event as soon as it happened."""
        queue: deque[Event] = deque()
        unsubscribe = self.stream.subscribe(queue.append)
        try:
            for _ in self._rounds():
                while queue:
                    yield queue.popleft()
            while queue:
                yield queue.popleft()
        finally:
            unsubscribe()

    def run(self) -> list[Event]:
        """Run until every task is COMPLETED or FAILED; return the events of this run."""
        return list(self.events())

    def run_until(self, predicate) -> list[Event]:
        """Run until ``predicate(event)`` is true for an event (then stop, mid-deal); return the
        events so far. Used to show a scheduler restart."""
        seen = []
        for event in self.events():
            seen.append(event)
            if predicate(event):
                break
        return seen

    def serve(self, stop: StopFlag, *, poll: float = 0.5, on_error=None) -> None:
        """Serve the workerpool's deals in real time until ``stop`` is set: every deal the chain
        shows (bought by anyone) is run to the end; when nothing can move, wait ``poll`` seconds.

        An unexpected error in one round (the node briefly unreachable, a bug) does not end the
        service: it goes to ``on_error(exc)`` (default: ignored) and the next round tries again;
        the scheduler resumes from the chain's state."""
        while not stop.is_set():
            try:
                moved = self._round()
            except Exception as exc:  # noqa: BLE001 - the service outlives one bad round
                moved = False
                if on_error is not None:
                    on_error(exc)
            if not moved:
                stop.wait(poll)

    # ----- rounds ------------------------------------------------------------------------------
    def _round(self) -> bool:
        """One round without time travel (see the module docstring); True when something moved."""
        moved, assignments = self.scheduler.step()
        if assignments:
            self._compute(assignments)
        return self._contribute_ready() or moved or bool(assignments)

    def _rounds(self) -> Iterator[None]:
        for _ in range(self.max_rounds):
            moved, assignments = self.scheduler.step()
            yield None
            if assignments:
                self._compute(assignments)
                yield None
            moved = self._contribute_ready() or moved or bool(assignments)
            yield None
            if self.scheduler.done():  # a late worker's contribution has no task left to go to
                self.pending.clear()
                return
            if not moved:
                self._wait()
                yield None
        raise DriveStalledError(
            f"no end after {self.max_rounds} rounds",
            expected="every task COMPLETED or FAILED",
            got=f"{len(self.scheduler.tasks)} task(s), pending {len(self.pending)}",
            hint="look at the last events; report this as a bug",
        )

    def _compute(self, assignments: list[Assignment]) -> None:
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            results = list(pool.map(_compute_one, assignments))
        now = self.chain.now()
        for a, comp in zip(assignments, results):
            a.worker.emit_computed(comp)
            if comp.ok and a.worker.alive:
                self.pending.append((now + a.worker.delay, a))
            else:
                self.scheduler.report_failure(a.worker, a.spec.taskid)

    def _contribute_ready(self) -> bool:
        now = self.chain.now()
        ready = [p for p in self.pending if p[0] <= now]
        self.pending = [p for p in self.pending if p[0] > now]
        for _, a in ready:
            try:
                receipt = a.worker.contribute(a.spec, a.authorization)
            except Exception as exc:  # noqa: BLE001 - one task's bug stops only that task
                receipt = None
                a.worker.stream.emit(
                    WorkerFailed(
                        a.spec.taskid,
                        a.worker.address,
                        a.worker.name,
                        a.worker.behaviour.value,
                        f"contribution failed: {error_reason(exc)}",
                        time=self.chain.now(),
                    )
                )
            if receipt is None:
                self.scheduler.report_failure(a.worker, a.spec.taskid)
        return bool(ready)

    def _wait(self) -> None:
        now = self.chain.now()
        targets = [(t, "a slow worker finishes") for t, _ in self.pending]
        deadline = self.scheduler.next_deadline()
        if deadline is not None:
            targets.append((deadline, "waiting for a deadline"))
        if not targets:
            raise DriveStalledError(
                "nothing to do and no deadline ahead",
                expected="a task that can still move",
                got="every task stuck",
                hint="look at the last events; report this as a bug",
            )
        target, reason = min(targets)
        seconds = max(target - now, 0) + 1
        self.chain.time_travel(seconds)
        self.stream.emit(TimeTravelled(seconds, reason, time=self.chain.now()))


def open_for_business(
    scheduler: Scheduler,
    book,
    app_developer,
    app_address: str,
    *,
    app_price: int,
    workerpool_price: int,
    volume: int,
    category: int,
    trust: int,
    rng,
):
    """The sellers' orders, signed and published: the app developer's for ``app_address``, then
    the scheduler's for its workerpool. Returns ``(app_entry, pool_entry)``."""
    from iexec_kit.market.providers import publish_app_order

    app_entry = publish_app_order(
        scheduler.hub, book, app_developer, app_address, price=app_price, volume=volume, rng=rng
    )
    pool_entry = scheduler.publish_orders(
        book,
        app_entry,
        price=workerpool_price,
        volume=volume,
        category=category,
        trust=trust,
        rng=rng,
    )
    return app_entry, pool_entry


def _compute_one(a: Assignment) -> Computation:
    """A worker's run of its assignment; an unexpected error fails that run only, with its
    reason (Worker.compute already turns the app's and the inputs' failures into one)."""
    try:
        return a.worker.compute(a.spec)
    except Exception as exc:  # noqa: BLE001 - reported as WorkerFailed by emit_computed
        return Computation(a.spec.taskid, a.worker.address, None, None, 0.0, error_reason(exc))


def build_workerpool(
    sb,
    behaviours=None,
    *,
    stream: EventStream | None = None,
    runner: str = "process",
    seed: int | None = None,
):
    """The scheduler and one :class:`Worker` per sandbox worker account: ``(scheduler, workers)``.

    ``behaviours``: one per worker, names or :class:`Behaviour` (default: every worker honest);
    ``runner``: "process" or "docker"; ``seed``: the scheduler's picks (default: the sandbox's).
    The workers' apps read IPFS inputs and upload results through ``sb.storage``.
    """
    from iexec_kit.actors.scheduler import Scheduler
    from iexec_kit.actors.worker import Worker
    from iexec_kit.compute import get_runner

    behaviours = [Behaviour.parse(b) for b in (behaviours or [Behaviour.HONEST] * len(sb.workers))]
    stream = stream if stream is not None else EventStream()
    seed = sb.seed if seed is None else seed
    if len(behaviours) > len(sb.workers):
        raise KitValueError(
            "more worker behaviours than worker accounts",
            expected=f"at most {len(sb.workers)}",
            got=str(len(behaviours)),
            hint="start the sandbox with more workers",
        )
    storage = sb.storage
    # workers serve other people's deals: remote inputs only, never their own files
    run = get_runner(runner, ipfs_cat=storage.ipfs.cat, allow_local=False)
    if runner == "docker":  # say it now, before anything is deposited or signed
        run.image_id(sb.app_dir)
    workers = [
        Worker(
            p,
            sb.hub,
            app_dir=sb.app_dir,
            folder=sb.folder / "workers",
            behaviour=b,
            runner=run,
            storage=storage,
            stream=stream,
        )
        for p, b in zip(sb.workers, behaviours)
    ]
    return Scheduler(
        sb.hub, sb.scheduler, sb.workerpool_address, workers, stream=stream, seed=seed
    ), workers
