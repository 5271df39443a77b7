"""Proof-of-Contribution end to end on the in-process chain: consensus, rewards and penalties to
the wei, reopen and claim with time travel, contributeAndFinalize, and who may call what."""

import pytest

from iexec_kit.errors import ContractRevertError
from iexec_kit.poco import ContributionStatus, TaskStatus
from iexec_kit.poco.consensus import ConsensusState
from tests.poco.conftest import RLC, TaskKit, assert_refused

GOOD = b"\x11" * 32
BAD = b"\xbb" * 32
KITTY = "0x99c2268479b93fDe36232351229815DF80837e23"


def _train(tk: TaskKit, a, b, tasks: int):
    """Give workers a and b a reputation: `tasks` tasks where both agree (+1 score each). Each
    task's trust is the workers' weight + 1: then one answer alone is not enough, and two are."""
    from iexec_kit.poco.consensus import worker_weight

    for _ in range(tasks):
        trust = worker_weight(tk.hub.score(a.address)) + 1
        m = tk.deal(volume=1, trust=trust)
        taskid, _ = tk.hub.initialize(m.dealid, m.deal.bot_first, tk.sb.scheduler)
        tk.contribute(taskid, a, GOOD)
        tk.contribute(taskid, b, GOOD)
        tk.hub.reveal(taskid, GOOD, a)
        tk.hub.reveal(taskid, GOOD, b)
        tk.hub.finalize(taskid, tk.RESULTS, tk.sb.scheduler)


def _balances(sb):
    return {p.name: sb.hub.account(p.address) for p in sb.participants}


def test_volume_2_trust_5_three_workers_one_wrong(tk):
    """The issue's scenario. With fresh workers (weight 2) trust 5 needs 3 agreeing answers and a
    dissent blocks 2 honest ones, so the two honest workers are veterans: 15 accurate tasks give
    score 15, weight 4. Per task: A (4) then C wrong (2) then B (4): group 16 of total 19, and
    16*5 = 80 > 19*4 = 76: consensus on the honest digest."""
    sb, hub = tk.sb, tk.hub
    a, b, c = sb.workers[:3]
    _train(tk, a, b, 15)
    assert hub.score(a.address) == hub.score(b.address) == 15 and hub.score(c.address) == 0

    m = tk.deal(volume=2, trust=5)
    before = _balances(sb)
    hub_rlc_before = hub.hub_rlc()
    stake, price = m.deal.worker_stake, m.deal.workerpool.price
    assert m.deal.trust == 5 and stake == 30 * RLC // 100

    for idx in range(2):
        taskid, _ = hub.initialize(m.dealid, idx, sb.scheduler)
        mirror = ConsensusState(5)
        for worker, digest in ((a, GOOD), (c, BAD), (b, GOOD)):
            tk.contribute(taskid, worker, digest)
            mirror.add(digest, hub.score(worker.address))
        task = hub.task(taskid)
        assert task.status == TaskStatus.REVEALING and mirror.winner == GOOD
        assert task.winner_counter == 2
        hub.reveal(taskid, GOOD, a)
        hub.reveal(taskid, GOOD, b)
        with pytest.raises(ContractRevertError) as err:  # the wrong worker cannot reveal
            hub.reveal(taskid, BAD, c)
        assert_refused(err, sb, "reveal-0x04")
        hub.finalize(taskid, tk.RESULTS, sb.scheduler)
        task = hub.task(taskid)
        assert (
            task.status == TaskStatus.COMPLETED
            and task.results_json()["location"] == "/ipfs/QmResult"
        )
        assert hub.contribution(taskid, c.address).status == ContributionStatus.CONTRIBUTED
        assert hub.contribution(taskid, a.address).status == ContributionStatus.PROVED

    after = _balances(sb)
    # expected, from POCO.md's formulas, per task: total reward = price + the loser's stake;
    # workers get 99% of it by log-weight (2 each: log2(4)); the scheduler the rest
    total = price + stake
    workers_reward = total * 99 // 100
    share = workers_reward * 2 // 4
    assert after["worker1"].stake == before["worker1"].stake + 2 * share
    assert after["worker2"].stake == before["worker2"].stake + 2 * share
    assert after["worker3"].stake == before["worker3"].stake - 2 * stake
    assert all(after[w].locked == 0 for w in ("worker1", "worker2", "worker3"))
    assert after["app_developer"].stake == before["app_developer"].stake + 2 * 5 * RLC
    assert after["scheduler"].stake == before["scheduler"].stake + 2 * (total - 2 * share) + 2 * (
        price * 30 // 100
    )
    assert after["scheduler"].locked == before["scheduler"].locked - 2 * (price * 30 // 100) == 0
    assert after["requester"].locked == 0 and after["requester"].stake == before["requester"].stake
    assert hub.score(a.address) == 17 and hub.score(c.address) == 0
    # the money adds up to the wei: nothing created, nothing lost
    assert hub.hub_rlc() == hub_rlc_before == hub.total_supply()
    moved = sum(
        after[n].stake + after[n].locked - before[n].stake - before[n].locked for n in after
    )
    assert moved == 0


def test_fresh_workers_need_four_honest_against_one_wrong(tk):
    sb, hub = tk.sb, tk.hub
    m, taskid = tk.task(trust=5)
    w = sb.workers
    tk.contribute(taskid, w[0], BAD)
    for i in range(1, 4):
        tk.contribute(taskid, w[i], GOOD)
        assert hub.task(taskid).status == TaskStatus.ACTIVE
    tk.contribute(taskid, w[4], GOOD)
    assert hub.task(taskid).status == TaskStatus.REVEALING and hub.task(taskid).winner_counter == 4


def test_unrevealed_consensus_is_reopened_then_completed(tk):
    sb, hub = tk.sb, tk.hub
    m, taskid = tk.task(trust=3)
    w = sb.workers
    tk.contribute(taskid, w[0], GOOD)
    tk.contribute(taskid, w[1], GOOD)  # consensus (4 of 5 > 2/3), but nobody reveals
    task = hub.task(taskid)
    assert task.status == TaskStatus.REVEALING
    with pytest.raises(ContractRevertError) as err:
        hub.reopen(taskid, sb.scheduler)
    assert_refused(err, sb, "reopen-0x03")
    sb.time_travel(task.reveal_deadline - sb.chain.now() + 1)
    with pytest.raises(ContractRevertError) as err:
        hub.reveal(taskid, GOOD, w[1])
    assert_refused(err, sb, "reveal-0x02")
    hub.reopen(taskid, sb.scheduler)
    assert hub.task(taskid).status == TaskStatus.ACTIVE
    assert hub.contribution(taskid, w[1].address).status == ContributionStatus.REJECTED
    # the lazy winners' weight is gone: two new workers must agree again
    tk.contribute(taskid, w[2], GOOD)
    assert hub.task(taskid).status == TaskStatus.ACTIVE
    tk.contribute(taskid, w[3], GOOD)
    assert hub.task(taskid).status == TaskStatus.REVEALING
    before = _balances(sb)
    hub.reveal(taskid, GOOD, w[2])
    hub.reveal(taskid, GOOD, w[3])
    hub.finalize(taskid, tk.RESULTS, sb.scheduler)
    after = _balances(sb)
    stake = m.deal.worker_stake
    for lazy in ("worker1", "worker2"):  # rejected after the reopen: their stakes are seized
        assert after[lazy].locked == 0 and after[lazy].stake == before[lazy].stake
        assert before[lazy].locked == stake
    assert hub.hub_rlc() == hub.total_supply()


def test_a_task_never_finalized_is_claimed_and_refunds_the_requester(tk):
    sb, hub = tk.sb, tk.hub
    m, taskid = tk.task(trust=3)
    tk.contribute(taskid, sb.workers[0], GOOD)
    req0 = hub.account(sb.requester.address)
    with pytest.raises(ContractRevertError) as err:
        hub.claim(taskid, sb.requester)
    assert_refused(err, sb, "claim-0x02")
    task = hub.task(taskid)
    sb.time_travel(task.final_deadline - sb.chain.now())
    with pytest.raises(ContractRevertError) as err:
        tk.contribute(taskid, sb.workers[1], GOOD)
    assert_refused(err, sb, "contribute-0x02")
    hub.claim(taskid, sb.workers[4])  # anyone may claim
    assert hub.task(taskid).status == TaskStatus.FAILED
    req1 = hub.account(sb.requester.address)
    price = m.deal.price_per_task
    assert req1.stake == req0.stake + price and req1.locked == req0.locked - price == 0
    assert hub.account(sb.workers[0].address).locked == 0
    pool_stake = m.deal.workerpool.price * 30 // 100
    assert hub.account(sb.scheduler.address).locked == 0
    assert hub.account(KITTY).locked == pool_stake
    with pytest.raises(ContractRevertError) as err:
        hub.claim(taskid, sb.requester)
    assert_refused(err, sb, "claim-0x01")
    assert hub.hub_rlc() == hub.total_supply()


def test_the_kitty_pays_the_next_successful_scheduler(tk):
    sb, hub = tk.sb, tk.hub
    m, taskid = tk.task(trust=1)
    sb.time_travel(hub.task(taskid).final_deadline - sb.chain.now())
    hub.claim(taskid, sb.requester)
    kitty = hub.account(KITTY).locked
    m2, taskid2 = tk.task(trust=1)
    sched0 = hub.account(sb.scheduler.address).stake
    hub.contribute_and_finalize(
        taskid2, GOOD, tk.RESULTS, sb.workers[0], tk.auth(sb.workers[0], taskid2)
    )
    bonus = min(max(kitty * 10 // 100, 10**9), kitty)
    assert hub.account(KITTY).locked == kitty - bonus
    unlocked = m2.deal.workerpool.price * 30 // 100
    fee = m2.deal.workerpool.price - m2.deal.workerpool.price * 99 // 100
    assert hub.account(sb.scheduler.address).stake == sched0 + bonus + unlocked + fee


def test_contribute_and_finalize_trust_1(tk):
    sb, hub = tk.sb, tk.hub
    m, taskid = tk.task(trust=1)
    w = sb.workers[0]
    w0 = hub.account(w.address)
    hub.contribute_and_finalize(taskid, GOOD, tk.RESULTS, w, tk.auth(w, taskid))
    task = hub.task(taskid)
    assert task.status == TaskStatus.COMPLETED and task.result_digest == "0x" + GOOD.hex()
    assert hub.account(w.address).stake == w0.stake + m.deal.workerpool.price * 99 // 100
    assert hub.account(w.address).locked == 0 and hub.score(w.address) == 0
    assert task.results == tk.RESULTS.encode() and task.results_timestamp == 0
    assert hub.result_for(taskid) == b""  # resultFor gives the callback data only, as PoCo 6.1.0
    m3, t3 = tk.task(trust=3)
    with pytest.raises(ContractRevertError) as err:
        hub.contribute_and_finalize(t3, GOOD, tk.RESULTS, w, tk.auth(w, t3))
    assert_refused(err, sb, "contributeAndFinalize-0x04")


# ----- access control -----------------------------------------------------------------------


def test_only_workers_authorized_by_the_scheduler_contribute(tk):
    from iexec_kit.poco import sign_authorization

    sb, hub = tk.sb, tk.hub
    m, taskid = tk.task(trust=3)
    w1, w2 = sb.workers[:2]
    cases = {
        "signed by someone else": sign_authorization(sb.requester, w1.address, taskid),
        "for another worker": tk.auth(w2, taskid),
        "for another task": tk.auth(
            w1, m.deal.task_id(1) if m.deal.bot_size > 1 else "0x" + "ab" * 32
        ),
        "garbage": b"\x01" * 65,
    }
    for name, auth in cases.items():
        with pytest.raises(ContractRevertError) as err:
            hub.contribute(taskid, GOOD, w1, auth)
        assert_refused(err, sb, "contribute-0x05", why=name)
    assert hub.task(taskid).contributors == ()
    tk.contribute(taskid, w1, GOOD)
    with pytest.raises(ContractRevertError) as err:
        tk.contribute(taskid, w1, GOOD)
    assert_refused(err, sb, "contribute-0x03")


def test_a_contribution_cannot_be_replayed_on_another_task(tk):
    """The same worker's commitment (hash, seal) and authorization, sent on a second task."""
    from iexec_kit.poco import result_hash, result_seal

    sb, hub = tk.sb, tk.hub
    m = tk.deal(volume=2, trust=3)
    t0, _ = hub.initialize(m.dealid, 0, sb.scheduler)
    t1, _ = hub.initialize(m.dealid, 1, sb.scheduler)
    w = sb.workers[0]
    auth0 = tk.auth(w, t0)
    hub.contribute(t0, GOOD, w, auth0)
    with pytest.raises(ContractRevertError) as err:
        hub.contribute_raw(t1, result_hash(t0, GOOD), result_seal(w.address, t0, GOOD), w, auth0)
    assert_refused(err, sb, "contribute-0x05")
    # even with a fresh authorization, a hash copied from another task can never be revealed there
    hub.contribute_raw(
        t1, result_hash(t0, GOOD), result_seal(w.address, t0, GOOD), w, tk.auth(w, t1)
    )
    tk.contribute(t1, sb.workers[1], GOOD)


def test_nobody_reveals_for_another_worker(tk):
    from iexec_kit.poco import result_hash

    sb, hub = tk.sb, tk.hub
    m, taskid = tk.task(trust=3)
    w1, w2, thief = sb.workers[:3]
    tk.contribute(taskid, w1, GOOD)
    tk.contribute(taskid, w2, GOOD)
    with pytest.raises(ContractRevertError) as err:  # no contribution of its own
        hub.reveal(taskid, GOOD, thief)
    assert_refused(err, sb, "reveal-0x01", "reveal-0x03")
    # a copier commits w1's hash with its own forged seal: its reveal cannot match
    m2, t2 = tk.task(trust=3)
    tk.contribute(t2, w1, GOOD)
    hub.contribute_raw(t2, result_hash(t2, GOOD), b"\x00" * 32, thief, tk.auth(thief, t2))
    assert hub.task(t2).status == TaskStatus.REVEALING
    with pytest.raises(ContractRevertError) as err:
        hub.reveal(t2, GOOD, thief)
    assert_refused(err, sb, "reveal-0x06")


def test_only_the_pool_owner_finalizes_or_reopens(tk):
    sb, hub = tk.sb, tk.hub
    m, taskid = tk.task(trust=3)
    for w in sb.workers[:2]:
        tk.contribute(taskid, w, GOOD)
    with pytest.raises(ContractRevertError) as err:
        hub.finalize(taskid, tk.RESULTS, sb.scheduler)
    assert_refused(err, sb, "finalize-0x03")
    for w in sb.workers[:2]:
        hub.reveal(taskid, GOOD, w)
    for intruder in (sb.requester, sb.workers[0], sb.chain.deployer):
        with pytest.raises(ContractRevertError) as err:
            hub.finalize(taskid, tk.RESULTS, intruder)
        assert_refused(err, sb, "poco-0x01")
        with pytest.raises(ContractRevertError) as err:
            hub.reopen(taskid, intruder)
        assert_refused(err, sb, "poco-0x01")
    with pytest.raises(ContractRevertError) as err:
        hub.finalize(taskid, tk.RESULTS, sb.scheduler, results_callback=b"x")
    assert_refused(err, sb, "finalize-0x04")
    with pytest.raises(ContractRevertError) as err:
        hub.result_for(taskid)
    assert_refused(err, sb, "poco-0x02")
    hub.finalize(taskid, tk.RESULTS, sb.scheduler)
    assert hub.task(taskid).status == TaskStatus.COMPLETED


def test_initialize_checks(tk):
    sb, hub = tk.sb, tk.hub
    m = tk.deal(volume=1, trust=3)
    with pytest.raises(ContractRevertError) as err:
        hub.initialize(m.dealid, 1, sb.requester)
    assert_refused(err, sb, "initialize-0x01")
    taskid, _ = hub.initialize(m.dealid, 0, sb.requester)
    task = hub.task(taskid)
    clock = hub.category(0).work_clock_time_ref
    assert task.contribution_deadline == m.deal.start_time + 7 * clock
    assert task.final_deadline == m.deal.start_time + 10 * clock
    assert task.taskid == m.deal.task_id(0) == taskid
    with pytest.raises(ContractRevertError) as err:
        hub.initialize(m.dealid, 0, sb.requester)
    assert_refused(err, sb, "initialize-0x02")
