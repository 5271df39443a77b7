"""The scheduler of one workerpool, like iexec-core: it reads the chain, decides, and signs.

Each :meth:`Scheduler.step` looks at the chain and does what is due, task by task:

- a deal it has not seen (a ``SchedulerNotice`` for its workerpool): its tasks are noticed;
- ``UNSET``: ``initialize`` the task (its deadlines start);
- ``ACTIVE``: add workers until the consensus *can* be reached (the off-chain consensus math of
  :mod:`iexec_kit.poco.consensus`, assuming the workers still computing agree with the leading
  answer), picked at random with a seeded RNG among the alive workers; sign their
  authorizations; after the final deadline, ``claim``;
- ``REVEALING``: ask the winners to reveal; once all did (or the reveal deadline passed with at
  least one), pick one revealed worker (seeded) to upload the result through the result proxy,
  then ``finalize`` with ``{"storage", "location"}``; with no reveal by the deadline, ``reopen``;
- ``COMPLETED`` / ``FAILED``: nothing more.

Each deal and each task fails alone. A deal whose request params the kit cannot use (not JSON, an
unknown storage provider, arguments that are not a string...) is refused (``DealRefused``, with
the reason): its tasks are initialized, given to no worker, and claimed after their final
deadline (FAILED, the requester refunded: PoCo has no other way to fail a task), while the other
deals go on. An unexpected error on one task (a bug of the kit) is reported as
``SchedulerError`` with its reason; that task is then only claimed at its final deadline.

Everything it needs is on chain except which workers are computing right now, so a scheduler
restarted mid-deal (a new :class:`Scheduler` on the same chain) resumes where the chain is.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from eth_utils import to_checksum_address

from iexec_kit.actors.events import (
    ConsensusReached,
    DealRefused,
    EventStream,
    OrdersPublished,
    RewardPaid,
    SchedulerError,
    StakeSeized,
    TaskClaimed,
    TaskFinalized,
    TaskInitialized,
    TaskReopened,
    Tx,
    WorkerAuthorized,
    WorkerFailed,
)
from iexec_kit.actors.worker import TaskSpec, Worker, error_reason  # Worker: a handle's shape
from iexec_kit.chain.accounts import Participant
from iexec_kit.errors import KitValueError
from iexec_kit.poco.consensus import ConsensusState, reached
from iexec_kit.poco.tasks import sign_authorization, task_id
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.protocol.units import same_address


@dataclass(frozen=True)
class Assignment:
    """A worker authorized on a task: the drive has it compute and contribute."""

    worker: Worker
    spec: TaskSpec
    authorization: bytes


class Scheduler:
    """The workerpool manager's scheduler (see the module docstring)."""

    def __init__(
        self,
        hub,
        manager: Participant,
        workerpool: str,
        workers: list[Worker],
        *,
        stream: EventStream | None = None,
        seed: int = 0,
        from_block: int = 0,
    ):
        self.hub = hub
        self.manager = manager
        self.workerpool = to_checksum_address(workerpool)
        self.workers = list(workers)
        self.stream = stream if stream is not None else EventStream()
        self.rng = random.Random(f"scheduler-{seed}")
        self.from_block = from_block
        self.deals: dict[str, object] = {}  # dealid -> Deal
        self.tasks: dict[str, tuple[str, int]] = {}  # taskid -> (dealid, idx), in deal order
        self.specs: dict[str, TaskSpec] = {}
        self.assigned: dict[str, list[str]] = {}  # taskid -> worker addresses computing or done
        self.failed: dict[str, set[str]] = {}  # taskid -> workers that could not contribute
        self.asked: set[tuple[str, str]] = set()  # (taskid, worker) asked to reveal
        self.announced: set[str] = set()  # tasks whose consensus was announced
        self.finished: set[str] = set()
        self.refused: dict[str, str] = {}  # dealid -> why the scheduler does not serve it
        self.troubled: dict[str, str] = {}  # taskid -> the unexpected error it hit
        self.abandoned: set[str] = set()  # troubled tasks that could not even be claimed
        self.uploading: dict[str, str] = {}  # taskid -> the remote worker asked to upload
        self._given: dict[str, int] = {}
        self._step_now: int | None = None  # chain time read once per step (one RPC, not dozens)
        self._in_step = False

    def add_worker(self, worker) -> None:
        """A worker joins the pool (a remote worker that registered): a "worker handle" with
        ``address``, ``name``, ``behaviour``, ``alive``, ``reveal(taskid)`` and ``upload(spec)``.
        A local :class:`Worker` answers at once; a remote one (:mod:`iexec_kit.actors.pool`)
        returns None, meaning "asked": the chain (a reveal) or its report (an upload) says the
        rest in a later step."""
        if self.worker(worker.address) is None:
            self.workers.append(worker)

    # ----- orders --------------------------------------------------------------------------
    def publish_orders(
        self,
        book,
        app_entry,
        *,
        price: int,
        volume: int,
        category: int = 0,
        trust: int = 0,
        rng: random.Random | None = None,
    ):
        """Sign and publish the workerpool's order (price per task, volume, category, trust)."""
        from iexec_kit.market.providers import publish_workerpool_order

        entry = publish_workerpool_order(
            self.hub,
            book,
            self.manager,
            self.workerpool,
            price=price,
            volume=volume,
            category=category,
            trust=trust,
            rng=rng,
        )
        self.stream.emit(
            OrdersPublished(
                app_entry.hash,
                app_entry.order.appprice,
                entry.hash,
                price,
                volume,
                trust,
                category,
                time=self._clock(),
            )
        )
        return entry

    # ----- reading the chain ---------------------------------------------------------------
    def notice_deals(self) -> list[str]:
        """Deals of this workerpool not seen before (SchedulerNotice events), oldest first."""
        new = []
        logs = self.hub.contract.events.SchedulerNotice.get_logs(
            from_block=self.from_block, argument_filters={"workerpool": self.workerpool}
        )
        for log in logs:
            dealid = "0x" + bytes(log["args"]["dealid"]).hex()
            if dealid in self.deals or dealid in self.refused:
                continue
            new.append(dealid)
            try:
                deal = self.hub.deal(dealid)
            except Exception as exc:  # noqa: BLE001 - this deal alone; said in the event
                self._refuse(dealid, f"the deal cannot be read: {error_reason(exc)}")
                continue
            self.deals[dealid] = deal
            try:
                specs = self._task_specs(dealid, deal)
            except Exception as exc:  # noqa: BLE001 - this deal alone; said in the event
                specs = {}
                self._refuse(dealid, f"its request params are unusable: {error_reason(exc)}")
            for idx in range(deal.bot_first, deal.bot_first + deal.bot_size):
                tid = task_id(dealid, idx)
                self.tasks[tid] = (dealid, idx)
                if idx in specs:
                    self.specs[tid] = specs[idx]
        return new

    def _refuse(self, dealid: str, reason: str) -> None:
        self.refused[dealid] = reason
        self.stream.emit(DealRefused(dealid, reason, time=self._clock()))

    def _task_specs(self, dealid: str, deal) -> dict[int, TaskSpec]:
        """What the workers need for each task of ``deal``; raises when its params are unusable
        (the deal is then refused)."""
        params = _request_params(deal.params)
        timeout = self.hub.category(deal.category).work_clock_time_ref
        return {
            idx: TaskSpec(
                taskid=task_id(dealid, idx),
                dealid=dealid,
                idx=idx,
                bot_first=deal.bot_first,
                bot_size=deal.bot_size,
                args=params.args,
                input_files=tuple(params.input_files),
                requester=deal.requester,
                beneficiary=deal.beneficiary,
                encryption=bool(params.encryption),
                timeout=timeout,
            )
            for idx in range(deal.bot_first, deal.bot_first + deal.bot_size)
        }

    def worker(self, address: str) -> Worker | None:
        for w in self.workers:
            if w.address.lower() == address.lower():
                return w
        return None

    def _name(self, address: str) -> str:
        w = self.worker(address)
        if w is not None:
            return w.name
        try:
            return self.hub.chain.participant_by_address(address).name
        except Exception:  # noqa: BLE001 - the kitty and strangers have no name
            return "kitty" if same_address(address, self.hub.config().kitty_address) else address

    def done(self) -> bool:
        """Every task of every noticed deal is COMPLETED or FAILED (or abandoned: a task the
        kit could not even claim, reported as SchedulerError)."""
        return bool(self.tasks) and all(
            t in self.abandoned
            or self.hub.task(t).status in (TaskStatus.COMPLETED, TaskStatus.FAILED)
            for t in self.tasks
        )

    def next_deadline(self) -> int | None:
        """The earliest deadline still ahead of an unfinished task (what the drive waits for)."""
        now = self.hub.chain.now()
        ahead = []
        for tid in self.tasks:
            t = self.hub.task(tid)
            if t.status == TaskStatus.ACTIVE:
                ahead += [t.contribution_deadline, t.final_deadline]
            elif t.status == TaskStatus.REVEALING:
                ahead += [t.reveal_deadline, t.final_deadline]
        ahead = [d for d in ahead if d >= now]
        return min(ahead) if ahead else None

    # ----- the loop --------------------------------------------------------------------------
    def step(self, only: set[str] | None = None, give=None) -> tuple[bool, list[Assignment]]:
        """Do what is due now; return (whether anything happened, new assignments). With
        ``only``, look at those tasks alone (and at new deals' tasks): a service that knows
        which tasks its workers reported on steps them at once, and sweeps all of them now and
        then (each task read costs a request to the chain). ``give``: called with each task's
        new assignments as soon as that task is stepped, so a worker in another process starts
        on a new deal's first task while the scheduler still initializes the others (measured:
        40 initializations kept 4 workers idle 1.3 s); they are returned all the same."""
        self._step_now, self._in_step = None, True
        try:
            return self._step(only, give)
        finally:
            self._step_now, self._in_step = None, False

    def _step(self, only: set[str] | None, give) -> tuple[bool, list[Assignment]]:
        new_deals = set(self.notice_deals())
        progressed = bool(new_deals)
        if only is not None:
            only = set(only) | {t for t, (d, _) in self.tasks.items() if d in new_deals}
        # assignments made in this step not yet handed to their worker, per worker (for the
        # least busy first: a handed one counts in the worker's load)
        self._given = {}
        assignments: list[Assignment] = []
        for tid in self.tasks:
            if tid in self.finished or (only is not None and tid not in only):
                continue
            try:
                moved, new = self._task_step(tid)
            except Exception as exc:  # noqa: BLE001 - one task's error stops only that task
                moved, new = self._trouble(tid, exc), []
            progressed = progressed or moved
            assignments += new
            if give is not None:
                for a in new:
                    give(a)
                    self._given[a.worker.address] -= 1
        return progressed or bool(assignments), assignments

    def _clock(self) -> int:
        """Chain time for this step's decisions and events: read once per step, at its first
        use (a deadline is then seen at most one step late, never early), so a burst of events
        in one step (deals refused, workers authorized, rewards paid) costs one read of the
        chain. Outside a step (``publish_orders``) each call reads the chain: such a call emits
        one event, and a value kept between steps would go stale."""
        if self._step_now is None:
            now = self.hub.chain.now()
            if not self._in_step:
                return now
            self._step_now = now
        return self._step_now

    def report_failure(self, worker: Worker, taskid: str) -> None:
        """A worker could not contribute to a task: do not count on it there."""
        self.failed.setdefault(taskid, set()).add(worker.address)

    def _trouble(self, tid: str, exc: Exception) -> bool:
        """Report an unexpected error on a task; from then on the task is only claimed at its
        final deadline. A second error (the claim itself failed) abandons it."""
        reason = error_reason(exc)
        if tid in self.troubled:
            self.abandoned.add(tid)
            self.finished.add(tid)
            reason = f"{reason}; the scheduler gives the task up (anyone may claim it)"
        self.troubled[tid] = reason
        self.stream.emit(SchedulerError(tid, reason, time=self._clock()))
        return True

    def _serves(self, tid: str) -> bool:
        """Whether the scheduler gives this task to workers (not refused, no error met)."""
        return tid in self.specs and tid not in self.troubled

    def _task_step(self, tid: str) -> tuple[bool, list[Assignment]]:
        dealid, idx = self.tasks[tid]
        task = self.hub.task(tid)
        now = self._clock()
        if task.status == TaskStatus.UNSET:
            _, receipt = self.hub.initialize(dealid, idx, self.manager)
            task = self.hub.task(tid)
            self.stream.emit(
                TaskInitialized(
                    tid,
                    dealid,
                    idx,
                    task.contribution_deadline,
                    task.final_deadline,
                    time=now,
                    tx=Tx.of(receipt),
                )
            )
            return True, self._assign(tid, task) if self._serves(tid) else []
        if task.status in (TaskStatus.COMPLETED, TaskStatus.FAILED):
            self.finished.add(tid)
            return False, []
        if now >= task.final_deadline:
            receipt = self.hub.claim(tid, self.manager)
            self.stream.emit(TaskClaimed(tid, time=now, tx=Tx.of(receipt)))
            self._money_events(tid, receipt)
            self.finished.add(tid)
            return True, []
        if not self._serves(tid):  # refused or troubled: claimed at the final deadline
            return False, []
        if task.status == TaskStatus.ACTIVE:
            if now >= task.contribution_deadline:
                return False, []
            new = self._assign(tid, task)
            return bool(new), new
        return self._revealing(tid, task, now), []

    def _contributions(self, tid: str, task):
        return [(w, self.hub.contribution(tid, w)) for w in task.contributors]

    def _assign(self, tid: str, task) -> list[Assignment]:
        """Authorize workers until the consensus can be reached (off-chain consensus math)."""
        trust = max(self.deals[task.dealid].trust, 1)
        state = ConsensusState(trust)
        contribs = self._contributions(tid, task)
        for w, c in contribs:
            state.add(c.result_hash, self.hub.score(w))
        for h in {c.result_hash for _, c in contribs if c.status == ContributionStatus.REJECTED}:
            state.winner = h
            state.reopen()
        state.winner = None
        live = {
            c.result_hash: state.groups.get(c.result_hash, 0)
            for _, c in contribs
            if c.status == ContributionStatus.CONTRIBUTED
        }
        leading = max(live, key=live.get) if live else "the answer to come"
        contributed = {w.lower() for w in task.contributors}
        failed = {a.lower() for a in self.failed.get(tid, set())}
        computing = [a for a in self.assigned.get(tid, []) if a.lower() not in contributed | failed]
        for a in computing:  # assume the workers still computing agree with the leading answer
            if state.add(leading, self.hub.score(a)):
                return []
        if computing and reached(state.groups.get(leading, 0), state.total, trust):
            return []
        taken = contributed | failed | {a.lower() for a in self.assigned.get(tid, [])}
        candidates = [w for w in self.workers if w.alive and w.address.lower() not in taken]
        self.rng.shuffle(candidates)
        # the least busy first: a remote worker handle says how many tasks it holds (a local
        # Worker computes in the drive's rounds: 0, so the seeded order stays as it is)
        candidates.sort(
            key=lambda w: (
                getattr(w, "load", 0) + self._given.get(w.address, 0) if hasattr(w, "load") else 0
            )
        )
        new: list[Assignment] = []
        for w in candidates:
            new.append(
                Assignment(w, self.specs[tid], sign_authorization(self.manager, w.address, tid))
            )
            self.assigned.setdefault(tid, []).append(w.address)
            self._given[w.address] = self._given.get(w.address, 0) + 1
            self.stream.emit(WorkerAuthorized(tid, w.address, w.name, time=self._clock()))
            if state.add(leading, self.hub.score(w.address)):
                break
        return new

    def _revealing(self, tid: str, task, now: int) -> bool:
        contribs = self._contributions(tid, task)
        winners = [
            (w, c)
            for w, c in contribs
            if c.result_hash == task.consensus_value
            and c.status in (ContributionStatus.CONTRIBUTED, ContributionStatus.PROVED)
        ]
        moved = revealed = False
        if tid not in self.announced:
            self.announced.add(tid)
            self.stream.emit(
                ConsensusReached(
                    tid,
                    task.consensus_value,
                    tuple(self._name(w) for w, _ in winners),
                    task.reveal_deadline,
                    time=now,
                )
            )
            moved = True
        for w, c in winners:
            worker = self.worker(w)
            if (
                c.status == ContributionStatus.CONTRIBUTED
                and (tid, w) not in self.asked
                and worker is not None
            ):
                self.asked.add((tid, w))
                if now < task.reveal_deadline and self._ask_reveal(worker, tid):
                    moved = revealed = True
        if revealed:  # a local worker revealed just now (a remote one's reveal: a later step)
            task = self.hub.task(tid)
        if task.reveal_counter and (
            task.reveal_counter == task.winner_counter or now >= task.reveal_deadline
        ):
            return self._upload_and_finalize(tid, task) or moved
        if task.reveal_counter == 0 and now >= task.reveal_deadline:
            receipt = self.hub.reopen(tid, self.manager)
            self.announced.discard(tid)
            self.stream.emit(TaskReopened(tid, time=now, tx=Tx.of(receipt)))
            return True
        return moved

    def _ask_reveal(self, worker: Worker, tid: str) -> bool:
        """Ask a winner to reveal; its failure is its own (a WorkerFailed), not the task's."""
        try:
            return worker.reveal(tid) is not None
        except Exception as exc:  # noqa: BLE001 - said in the event
            self.stream.emit(
                WorkerFailed(
                    tid,
                    worker.address,
                    worker.name,
                    worker.behaviour.value,
                    f"reveal failed: {error_reason(exc)}",
                    time=self._clock(),
                )
            )
            return False

    def _upload_and_finalize(self, tid: str, task) -> bool:
        revealed = [
            w
            for w in task.contributors
            if self.hub.contribution(tid, w).status == ContributionStatus.PROVED
        ]
        self.rng.shuffle(revealed)
        waiting = self.uploading.get(tid)
        if waiting in revealed:  # a worker in another process was asked: it goes first
            revealed.remove(waiting)
            revealed.insert(0, waiting)
        for address in revealed:
            worker = self.worker(address)
            if worker is None:
                continue
            try:
                upload = worker.upload(self.specs[tid])
                if upload is None:  # asked (a remote worker): its answer comes in a later step
                    self.uploading[tid] = address
                    return False
            except Exception as exc:  # noqa: BLE001 - this worker's upload; another may succeed
                self.stream.emit(
                    WorkerFailed(
                        tid,
                        address,
                        worker.name,
                        worker.behaviour.value,
                        f"upload failed: {error_reason(exc)}",
                        time=self._clock(),
                    )
                )
                continue
            receipt = self.hub.finalize(tid, upload.results, self.manager)
            self.stream.emit(
                TaskFinalized(tid, upload.results, time=self._clock(), tx=Tx.of(receipt))
            )
            self._money_events(tid, receipt)
            self.finished.add(tid)
            return True
        return False  # nobody could upload: the final deadline will let anyone claim

    def _money_events(self, tid: str, receipt) -> None:
        """Reward and Seize events of a finalize or claim receipt, in words."""
        events = self.hub.contract.events
        for ev, cls in ((events.Reward(), RewardPaid), (events.Seize(), StakeSeized)):
            for log in ev.process_receipt(receipt.raw, errors=_DISCARD):
                owner, amount = log["args"]["owner"], log["args"]["amount"]
                extra = {}
                if cls is StakeSeized:
                    deal = self.deals[self.tasks[tid][0]]
                    extra["reason"] = (
                        "payment"
                        if owner == deal.requester
                        else "workerpool stake"
                        if owner == deal.workerpool.owner
                        else "stake lost"
                    )
                self.stream.emit(
                    cls(
                        tid,
                        owner,
                        self._name(owner),
                        amount,
                        **extra,
                        time=self._clock(),
                        tx=Tx.of(receipt),
                    )
                )


def _request_params(text: str):
    """A deal's params, checked beyond what RequestParams checks (the types a worker relies on);
    raises KitValueError saying what is wrong."""
    from iexec_kit.poco.orders import RequestParams

    try:
        raw = json.loads(text) if text else {}
    except ValueError:
        raw = None  # RequestParams says it is not JSON
    if isinstance(raw, dict):
        for key in ("iexec_args", "iexec_result_storage_provider", "iexec_result_storage_proxy"):
            if raw.get(key) is not None and not isinstance(raw[key], str):
                raise KitValueError(
                    f"{key} is a string", got=f"{type(raw[key]).__name__} {raw[key]!r:.80}"
                )
        files = raw.get("iexec_input_files", [])
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise KitValueError("iexec_input_files is a list of URLs", got=f"{files!r:.80}")
    return RequestParams.from_json(text)


def _discard():
    from web3.logs import DISCARD

    return DISCARD


_DISCARD = _discard()
