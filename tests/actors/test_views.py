"""The event stream's views: events folded into tasks, workers, answers and the consensus, with
the credibility of poco.consensus (not a formula of their own)."""

from __future__ import annotations

import pytest

from iexec_kit.actors import events as E
from iexec_kit.actors.views import TaskProgress, all_reached, task_progress
from iexec_kit.poco.consensus import ConsensusState, contributions_needed, worker_weight

TASK, DEAL = "0x" + "11" * 32, "0x" + "22" * 32
GOOD, BAD = "0x" + "aa" * 32, "0x" + "bb" * 32


def addr(i: int) -> str:
    return f"0x{i:040x}"


def commit(i: int, answer: str, behaviour: str = "honest") -> E.ContributionCommitted:
    return E.ContributionCommitted(TASK, addr(i), f"worker{i}", behaviour, answer)


def start(trust: int = 5) -> list[E.Event]:
    return [
        E.DealCreated(DEAL, 1, 2, trust, addr(100), addr(101)),
        E.TaskInitialized(TASK, DEAL, 0, 100, 200),
    ]


def test_no_events_no_tasks():
    assert task_progress([]) == {} and not all_reached({})


def test_a_task_takes_its_deals_trust_and_the_consensus_threshold():
    t = task_progress(start(5))[TASK]
    assert isinstance(t, TaskProgress) and t.dealid == DEAL and t.status == "ACTIVE"
    assert t.trust == 5 and t.threshold == pytest.approx(ConsensusState(5).threshold())
    assert t.needed == contributions_needed(5)
    assert not t.reached and not all_reached({TASK: t})


def test_credibility_follows_the_consensus_math_commit_by_commit():
    events = start(5)
    math = ConsensusState(5)
    answers = [(GOOD, "honest"), (BAD, "colluding"), (GOOD, "honest"), (BAD, "colluding")]
    for i, (answer, who) in enumerate(answers):
        events.append(commit(i, answer, who))
        math.add(answer, 0)
        t = task_progress(events)[TASK]
        assert t.workers[addr(i)].credibility == pytest.approx(math.credibility(answer))
    assert t.credibility == {h: pytest.approx(math.credibility(h)) for h in (GOOD, BAD)}
    assert t.answers == {GOOD: ["worker0", "worker2"], BAD: ["worker1", "worker3"]}


def test_scores_change_the_weight_and_the_credibility():
    scores = {addr(0): 30}  # an experienced worker: weight 9
    events = [*start(5), commit(0, GOOD), commit(1, BAD)]
    t = task_progress(events, scores)[TASK]
    math = ConsensusState(5)
    math.add(GOOD, 30)
    math.add(BAD, 0)
    assert t.workers[addr(0)].weight == worker_weight(30) and t.workers[addr(1)].weight == 2
    assert t.credibility[GOOD] == pytest.approx(math.credibility(GOOD))
    assert t.credibility[GOOD] != pytest.approx(task_progress(events)[TASK].credibility[GOOD])


def test_a_whole_task_consensus_reveal_upload_finalize():
    winners = (addr(0), addr(2))
    events = [
        *start(1),
        E.WorkerAuthorized(TASK, addr(0), "worker0"),
        E.AppComputed(TASK, addr(0), "worker0", "honest", "0x" + "cd" * 32, 0.1),
        E.WorkerFailed(TASK, addr(1), "worker1", "crashing", "exit 1\nlong log"),
        commit(0, GOOD),
        commit(2, GOOD),
        E.ConsensusReached(TASK, GOOD, winners, 300),
        E.ContributionRevealed(TASK, addr(0), "worker0", "0x" + "cd" * 32),
        E.ResultUploaded(TASK, addr(0), "worker0", "ipfs", "/ipfs/Qm", "Qm", 10),
    ]
    t = task_progress(events)[TASK]
    assert t.reached and t.consensus == GOOD and t.winners == winners and t.status == "REVEALING"
    w0, w1, w2 = (t.workers[addr(i)] for i in range(3))
    assert w0.authorized and w0.digest and w0.revealed and w0.uploaded and w0.won
    assert w1.failed == "exit 1" and w1.behaviour == "crashing" and not w1.won
    assert w2.won and not w2.revealed
    assert t.result == "/ipfs/Qm" and all_reached({TASK: t})
    done = task_progress([*events, E.TaskFinalized(TASK, "{}")])[TASK]
    assert done.status == "COMPLETED"
    assert done.as_dict()["workers"][addr(0)]["uploaded"] is True


def test_a_reopen_takes_the_consensus_back_and_a_claim_fails_the_task():
    events = [*start(1), commit(0, GOOD), E.ConsensusReached(TASK, GOOD, (addr(0),), 300)]
    events.append(E.TaskReopened(TASK))
    t = task_progress(events)[TASK]
    math = ConsensusState(1)
    math.add(GOOD, 0)
    math.reopen()
    assert not t.reached and t.winners == () and "reopened" in t.status
    assert t.credibility[GOOD] == pytest.approx(math.credibility(GOOD))
    assert task_progress([*events, E.TaskClaimed(TASK)])[TASK].status == "FAILED (claimed)"


def test_the_view_is_a_pure_function_of_the_events():
    stream = E.EventStream()
    for e in [*start(5), commit(0, GOOD), commit(1, BAD)]:
        stream.emit(e)
    assert task_progress(stream) == task_progress(list(stream))
