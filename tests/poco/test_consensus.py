"""The off-chain consensus math agrees with the contract's, on every case hypothesis finds."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iexec_kit.chain import artifacts
from iexec_kit.poco import TaskStatus, sign_authorization
from iexec_kit.poco.consensus import (
    ConsensusState,
    contributions_needed,
    log_weight,
    probe_simulate,
    reached,
    worker_weight,
)
from iexec_kit.protocol.units import RLC


def test_pocos_table_of_fresh_workers_needed():
    """POCO.md: trust 1-2 need 1 fresh worker, 3-4: 2, 5: 3, 10: 4, 100: 7; one dissent at
    100: 9."""
    assert [contributions_needed(t) for t in (1, 2, 3, 4, 5, 10, 100)] == [1, 1, 2, 2, 3, 4, 7]
    assert contributions_needed(100, dissent=1) == 9


def test_weights():
    assert [worker_weight(s) for s in (0, 8, 9, 11, 12, 15, 30)] == [2, 2, 2, 2, 3, 4, 9]
    assert [log_weight(w) for w in (1, 2, 3, 4, 9)] == [0, 1, 1, 2, 3]
    assert reached(3, 4, 5) is False and reached(9, 10, 5) is True


def test_credibility_and_reopen():
    s = ConsensusState(trust=5)
    s.add("a")
    assert s.credibility("a") == 2 / 3 and s.threshold() == 0.8
    s.add("a"), s.add("a")
    assert s.winner == "a"
    s.reopen()
    assert s.winner is None and s.groups["a"] == 0 and s.total == 1


@pytest.fixture(scope="module")
def probe(sandbox_session):
    chain = sandbox_session.chain
    snap = chain.snapshot()
    address, _ = chain.deploy(artifacts.load("ConsensusProbe"), chain.deployer)
    yield chain, address
    chain.revert(snap)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    trust=st.sampled_from([1, 2, 3, 4, 5, 7, 10, 20, 100]),
    contributions=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 60)), min_size=1, max_size=12
    ),
)
def test_mirror_agrees_with_the_contract_for_any_scores(probe, trust, contributions):
    chain, address = probe
    hashes = [bytes([answer]) * 32 for answer, _ in contributions]
    scores = [score for _, score in contributions]
    onchain_at, groups, total, logw = probe_simulate(chain, address, hashes, scores, trust)
    state = ConsensusState(trust)
    mirror_at = None
    for i, (h, score) in enumerate(zip(hashes, scores)):
        if state.add(h, score):
            mirror_at = i
            break
    assert mirror_at == onchain_at
    assert state.total == total
    assert [state.groups.get(h, 0) for h in hashes] == groups
    n = mirror_at + 1 if mirror_at is not None else len(scores)
    assert [log_weight(worker_weight(s)) for s in scores[:n]] == logw[:n]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    trust=st.sampled_from([1, 3, 5, 10]),
    answers=st.lists(st.integers(0, 2), min_size=1, max_size=7),
)
def test_mirror_predicts_the_hub_for_fresh_workers(sandbox_session, trust, answers):
    """The real PocoModule, contribution by contribution, against the mirror's prediction."""
    from tests.poco.conftest import OrderKit

    sb = sandbox_session
    snap = sb.snapshot()
    try:
        kit = OrderKit(sb)
        kit.fund()
        workers = sb.chain.workers
        for w in workers:
            sb.deposit(w, 10 * RLC)
        m = sb.hub.match_orders(
            kit.app(), None, kit.pool(trust=max(trust, 5)), kit.request(volume=1, trust=trust)
        )
        taskid, _ = sb.hub.initialize(m.dealid, 0, sb.scheduler)
        state = ConsensusState(max(trust, 1))
        for answer, worker in zip(answers, workers):
            digest = bytes([answer + 1]) * 32
            sb.hub.contribute(
                taskid, digest, worker, sign_authorization(sb.scheduler, worker.address, taskid)
            )
            predicted = state.add(answer, sb.hub.score(worker.address))
            status = sb.hub.task(taskid).status
            assert status == (TaskStatus.REVEALING if predicted else TaskStatus.ACTIVE)
            if predicted:
                break
    finally:
        sb.revert(snap)


def test_attack_success_rate_monte_carlo():
    import random

    from iexec_kit.poco.consensus import attack_success_rate

    # trust 1: the first worker decides, so the wrong-result rate is the cheaters' share
    assert abs(attack_success_rate(1, 0.3, trials=4000, rng=random.Random(1)) - 0.3) < 0.03
    # more trust, fewer wrong results, for a minority of cheaters
    rates = [attack_success_rate(t, 0.3, trials=2000, rng=random.Random(2)) for t in (1, 3, 5, 10)]
    assert rates == sorted(rates, reverse=True) and rates[-1] < 0.05
    assert attack_success_rate(5, 0.0, trials=200) == 0.0
