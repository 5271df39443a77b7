"""Views of the event stream: the events folded into what a learner watches, as plain data.

:func:`task_progress` replays events (past ones included, in order) into one
:class:`TaskProgress` per task: each worker's steps (authorized, computed, committed, revealed,
uploaded), each answer's workers and credibility, the consensus and the task's status. The
credibility is the kit's mirror of the hub's consensus math (:mod:`iexec_kit.poco.consensus`),
not a second formula. A pure function of the events: the same events give the same view, so a
view made after a run equals the one made live::

    tasks = task_progress(stream)          # {taskid: TaskProgress}
    tasks[taskid].consensus, tasks[taskid].credibility
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from iexec_kit.actors import events as E
from iexec_kit.poco.consensus import ConsensusState, contributions_needed, worker_weight


@dataclass
class WorkerProgress:
    """One worker on one task, as its events tell: what it did so far."""

    address: str
    name: str
    behaviour: str = ""
    weight: int = worker_weight(0)  # its weight in the consensus (from its score)
    authorized: bool = False
    digest: str | None = None  # the result digest it computed
    commit: str | None = None  # the result hash it committed
    credibility: float | None = None  # its answer's credibility right after its commit
    revealed: bool = False
    uploaded: bool = False
    failed: str | None = None  # the first line of why its run failed
    won: bool = False  # it committed the answer the consensus is on


@dataclass
class TaskProgress:
    """One task as its events tell: workers, answers, the consensus math's state, the status."""

    taskid: str
    dealid: str | None
    trust: int
    threshold: float  # an answer wins with credibility above this (1 - 1/trust)
    needed: int  # agreeing new workers that reach the consensus at this trust
    status: str = "ACTIVE"
    workers: dict[str, WorkerProgress] = field(default_factory=dict)
    answers: dict[str, list[str]] = field(default_factory=dict)  # result hash -> worker names
    credibility: dict[str, float] = field(default_factory=dict)  # result hash -> group / total
    consensus: str | None = None
    winners: tuple[str, ...] = ()
    result: str | None = None  # where the result was uploaded

    @property
    def reached(self) -> bool:
        return self.consensus is not None

    def as_dict(self) -> dict:
        """Plain data (JSON-ready)."""
        return asdict(self)


def all_reached(tasks: dict[str, TaskProgress]) -> bool:
    """True once there is a task and every task seen has reached a consensus."""
    return bool(tasks) and all(t.reached for t in tasks.values())


def task_progress(
    events: Iterable[E.Event], scores: dict[str, int] | None = None
) -> dict[str, TaskProgress]:
    """Fold events into one :class:`TaskProgress` per task (in the order tasks appeared).

    Workers count as new (score 0) unless ``scores`` maps their address to a score: the weight
    and the credibility follow :func:`iexec_kit.poco.consensus.worker_weight` and
    :class:`~iexec_kit.poco.consensus.ConsensusState`, as the hub computes them."""
    scores = scores or {}
    trusts: dict[str, int] = {}
    tasks: dict[str, TaskProgress] = {}
    math: dict[str, ConsensusState] = {}

    def task(tid: str, dealid: str | None = None) -> TaskProgress:
        if tid not in tasks:
            trust = max(trusts.get(dealid, 1), 1)
            math[tid] = state = ConsensusState(trust)
            tasks[tid] = TaskProgress(
                tid, dealid, trust, state.threshold(), contributions_needed(trust)
            )
        return tasks[tid]

    def worker(t: TaskProgress, e) -> WorkerProgress:
        if e.worker not in t.workers:
            t.workers[e.worker] = WorkerProgress(
                e.worker,
                getattr(e, "name", e.worker),
                weight=worker_weight(scores.get(e.worker, 0)),
            )
        return t.workers[e.worker]

    for e in events:
        if isinstance(e, E.DealCreated):
            trusts[e.dealid] = e.trust
        elif isinstance(e, E.TaskInitialized):
            task(e.taskid, e.dealid)
        elif isinstance(e, E.WorkerAuthorized):
            worker(task(e.taskid), e).authorized = True
        elif isinstance(e, E.AppComputed):
            w = worker(task(e.taskid), e)
            w.behaviour, w.digest = e.behaviour, e.digest
        elif isinstance(e, E.WorkerFailed):
            w = worker(task(e.taskid), e)
            w.behaviour = e.behaviour
            w.failed = e.reason.splitlines()[0] if e.reason else "failed"
        elif isinstance(e, E.ContributionCommitted):
            t = task(e.taskid)
            w = worker(t, e)
            w.behaviour, w.commit = e.behaviour, e.result_hash
            math[t.taskid].add(e.result_hash, scores.get(e.worker, 0))
            w.credibility = math[t.taskid].credibility(e.result_hash)
            t.answers.setdefault(e.result_hash, []).append(w.name)
        elif isinstance(e, E.ConsensusReached):
            t = task(e.taskid)
            t.consensus, t.winners, t.status = e.consensus, tuple(e.winners), "REVEALING"
        elif isinstance(e, E.ContributionRevealed):
            worker(task(e.taskid), e).revealed = True
        elif isinstance(e, E.ResultUploaded):
            t = task(e.taskid)
            worker(t, e).uploaded = True
            t.result = e.location
        elif isinstance(e, E.TaskFinalized):
            task(e.taskid).status = "COMPLETED"
        elif isinstance(e, E.TaskReopened):
            t = task(e.taskid)
            math[t.taskid].reopen()
            t.consensus, t.winners, t.status = None, (), "ACTIVE (reopened)"
        elif isinstance(e, E.TaskClaimed):
            task(e.taskid).status = "FAILED (claimed)"
    for t in tasks.values():
        t.credibility = {h: math[t.taskid].credibility(h) for h in t.answers}
        for w in t.workers.values():
            w.won = w.commit is not None and w.commit == t.consensus
    return tasks


__all__ = ["TaskProgress", "WorkerProgress", "all_reached", "task_progress"]
