"""Workshop faults with real worker processes, on one node shared by the module (a node start
costs seconds): a worker SIGKILLed before it contributes and one SIGKILLed after it contributed
but before it revealed (its stake where PoCo puts it), a worker that joins after the deal was
matched, a worker that reports what it never committed, the result proxy unreachable for a
while, the node's IPFS (which serves the task's input) unreachable for a while.

Each test starts the worker processes it needs, on wallets of its own, and stops them at its end,
waiting until the scheduler counts them as gone: tests do not depend on one another or on their
order. The module runs in one pytest-xdist process (make test's --dist loadfile)."""

from __future__ import annotations

import signal
import threading
import time

import pytest
import requests
from workshop_helpers import buy, logs, need_hardhat, wait_done, wait_for

from iexec_kit.node import Node, NodeConfig, stop_process
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus

pytestmark = pytest.mark.xdist_group("workshop-faults-shared")

PING_TIMEOUT = 3


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """One node for the module: 12 worker wallets, the scheduler's API, no worker running."""
    need_hardhat()
    config = NodeConfig(
        workers=12, workerpool="processes", behaviours=("honest",), ping_timeout=PING_TIMEOUT
    )
    with Node(tmp_path_factory.mktemp("faults"), config=config).start() as n:
        first = n.worker_procs.pop()  # the node starts one: this module starts its own
        stop_process(first)
        wait_for(lambda: not _alive(n), 30, "the node's first worker gone")
        yield n


def _alive(node) -> list[str]:
    return [w["name"] for w in node.pool.view()["workers"] if w["alive"]]


@pytest.fixture
def workers(node):
    """start(name, behaviour="honest", *extra) -> Popen; all stopped at the test's end, and
    gone for the scheduler before the next test."""
    started = []

    def start(name: str, behaviour: str = "honest", *extra: str):
        proc = node.start_worker_process(name, behaviour, *extra)
        started.append(proc)
        return proc

    yield start
    for p in started:
        if p.poll() is None:
            p.terminate()
    for p in started:
        stop_process(p)
        node.worker_procs.remove(p)
    wait_for(lambda: not _alive(node), PING_TIMEOUT + 10, "the test's workers gone")


def registered(node, *names: str) -> None:
    wait_for(lambda: set(names) <= set(_alive(node)), 60, f"{names} registered")


def worker(node, name: str):
    return next(w for w in node.sb.workers if w.name == name)


def _log(node, name: str) -> str:
    path = node.folder / "logs" / f"{name}.log"
    return path.read_text() if path.exists() else ""


def contribution(node, taskid: str, name: str):
    try:
        return node.sb.hub.contribution(taskid, worker(node, name).address).status
    except Exception:  # noqa: BLE001 - the task is not initialized yet
        return ContributionStatus.UNSET


def test_killed_before_contributing_the_task_goes_to_another_and_its_stake_is_untouched(
    node, workers
):
    """worker1 (slow) computes, then is SIGKILLed before contributing: once its pings stop the
    scheduler gives the task to worker2, the task completes, and worker1's stake is where PoCo
    leaves a worker that never contributed: all of it, nothing locked."""
    hub, w1 = node.sb.hub, worker(node, "worker1")
    before = hub.account(w1.address)
    victim = workers("worker1", "slow", "--delay", "60")
    registered(node, "worker1")
    deal = buy(node, volume=1, trust=1)
    wait_for(lambda: "computed digest" in _log(node, "worker1"), 60, "worker1 computed")
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    workers("worker2")
    assert wait_done(node, deal, 90, what=lambda: logs(node)) == [TaskStatus.COMPLETED]
    assert list(hub.task(deal.task_id(0)).contributors) == [worker(node, "worker2").address]
    after = hub.account(w1.address)
    assert (after.stake, after.locked) == (before.stake, 0)


def test_killed_after_contributing_before_revealing_its_stake_is_seized(node, workers):
    """At trust 5 three new workers reach the consensus. worker3 contributes first (the two
    others are slow) and is SIGKILLed at once: its stake stays locked (frozen) while the task
    runs; the two others contribute and reveal; at the reveal deadline the scheduler finalizes
    with them, and PoCo seizes the stake of the winner that never revealed (it goes to the
    others' rewards) and takes no score from the others."""
    hub = node.sb.hub
    w3 = worker(node, "worker3")
    before, score_before = hub.account(w3.address), hub.score(w3.address)
    victim = workers("worker3")
    workers("worker4", "slow", "--delay", "4")
    workers("worker5", "slow", "--delay", "4")
    registered(node, "worker3", "worker4", "worker5")
    deal = buy(node, volume=1, trust=5)
    tid = deal.task_id(0)
    stake = hub.deal(deal.dealid).worker_stake
    wait_for(
        lambda: contribution(node, tid, "worker3") == ContributionStatus.CONTRIBUTED,
        60,
        "worker3's contribution",
    )
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    frozen = hub.account(w3.address)
    assert (frozen.stake, frozen.locked) == (before.stake - stake, stake)
    wait_for(
        lambda: hub.task(tid).status == TaskStatus.REVEALING and hub.task(tid).reveal_counter == 2,
        60,
        "the consensus and the two others' reveals",
    )
    task = hub.task(tid)
    assert task.winner_counter == 3 and contribution(node, tid, "worker3") == (
        ContributionStatus.CONTRIBUTED
    )
    node.sb.chain.time_travel(task.reveal_deadline - node.sb.chain.now() + 1)
    assert wait_done(node, deal, 60, what=lambda: logs(node)) == [TaskStatus.COMPLETED]
    after = hub.account(w3.address)
    assert (after.stake, after.locked) == (before.stake - stake, 0)  # seized, not refunded
    assert hub.score(w3.address) <= score_before
    for name in ("worker4", "worker5"):
        assert contribution(node, tid, name) == ContributionStatus.PROVED


def test_a_worker_that_joins_after_the_deal_gets_work_and_completes_it(node, workers):
    """At trust 3 two new workers are needed; only worker6 runs when the deal is matched. It
    contributes; the task waits; worker7 starts afterwards, signs in, is given the task, and the
    consensus is reached with it."""
    workers("worker6")
    registered(node, "worker6")
    deal = buy(node, volume=1, trust=3)
    tid = deal.task_id(0)
    wait_for(
        lambda: contribution(node, tid, "worker6") == ContributionStatus.CONTRIBUTED,
        60,
        "worker6's contribution",
    )
    time.sleep(1.0)  # a few scheduler rounds with nobody to ask
    assert node.sb.hub.task(tid).status == TaskStatus.ACTIVE
    assert "worker7" not in _alive(node)
    workers("worker7")
    assert wait_done(node, deal, 90, what=lambda: logs(node)) == [TaskStatus.COMPLETED]
    assert contribution(node, tid, "worker7") == ContributionStatus.PROVED
    assert "signed in" in _log(node, "worker7")


def test_reports_the_chain_does_not_show_are_refused_and_the_honest_complete_the_task(
    node, workers
):
    """worker8 signs in (a real client over HTTP), is given a task at trust 3 beside worker9,
    and reports CONTRIBUTED without contributing: the scheduler reads the chain, refuses the
    report (422) and gives the task to another worker (worker10, started now). worker8 then
    tries to reveal the honest digest on chain, which it never committed: the hub refuses;
    its REVEALED and RESULT_UPLOADED reports are refused too. The task completes with the two
    honest workers."""
    from iexec_kit.actors.pool import SchedulerClient

    w8 = worker(node, "worker8")
    liar = SchedulerClient(node.pool.url, w8.key, name="worker8", behaviour="honest")
    liar.sign_in()
    alive = threading.Event()

    def pings():
        while not alive.wait(1.0):
            liar.ping()

    threading.Thread(target=pings, daemon=True).start()
    try:
        _liar_scenario(node, workers, liar, w8)
    finally:
        alive.set()


def _liar_scenario(node, workers, liar, w8):
    from iexec_kit.actors.pool import ReportRefusedError
    from iexec_kit.errors import ContractRevertError

    hub = node.sb.hub
    workers("worker9")
    registered(node, "worker8", "worker9")
    deal = buy(node, volume=1, trust=3)
    tid = deal.task_id(0)

    def given():
        return liar.available()

    work = wait_for(given, 30, "worker8 given the task")
    assert work["chainTaskId"] == tid
    with pytest.raises(ReportRefusedError, match="CONTRIBUTED refused"):
        liar.update(tid, "CONTRIBUTED")
    workers("worker10")
    task = wait_for(lambda: (t := hub.task(tid)).reveal_counter >= 1 and t, 60, "an honest reveal")
    with pytest.raises(ContractRevertError):  # the right digest, but never committed by worker8
        hub.reveal(tid, task.result_digest, w8)
    with pytest.raises(ReportRefusedError, match="REVEALED refused"):
        liar.update(tid, "REVEALED")
    forged = {"storage": "ipfs", "location": "/ipfs/forged", "cid": None, "size": 1}
    with pytest.raises(ReportRefusedError, match="RESULT_UPLOADED refused"):
        liar.update(tid, "RESULT_UPLOADED", forged)
    assert wait_done(node, deal, 90, what=lambda: logs(node)) == [TaskStatus.COMPLETED]
    task = hub.task(tid)
    assert w8.address not in task.contributors
    assert {worker(node, n).address for n in ("worker9", "worker10")} == set(task.contributors)
    assert "forged" not in task.results.decode("utf-8", "replace")


def test_the_result_proxy_unreachable_for_a_while_the_upload_is_retried(node, workers):
    """The result proxy stops before the deal; worker11 computes, contributes, reveals, and
    cannot upload: it retries (a growing delay) while the task is REVEALING and the scheduler
    waits for it. The proxy comes back on the same port: the upload goes through, the task is
    finalized, and the result is there."""
    proxy = node.sb.storage.proxy.server
    port = proxy.port
    workers("worker11")
    registered(node, "worker11")
    proxy.stop()
    try:
        with pytest.raises(requests.ConnectionError):
            requests.get(proxy.url + "/version", timeout=2)
        deal = buy(node, volume=1, trust=1)
        wait_for(lambda: "storage is unreachable" in _log(node, "worker11"), 60, "a failed upload")
        time.sleep(2.0)
        assert node.sb.hub.task(deal.task_id(0)).status == TaskStatus.REVEALING
    finally:
        proxy.requested_port = port
        proxy.start()
    assert wait_done(node, deal, 60, what=lambda: logs(node)) == [TaskStatus.COMPLETED]
    assert node.sb.storage.proxy.has_result(deal.task_id(0))
    assert _log(node, "worker11").count("storage is unreachable") >= 2  # retried


def test_the_nodes_ipfs_unreachable_for_a_while_the_input_fetch_is_retried(node, workers, tmp_path):
    """The node's IPFS (its API server, which also serves the gateway the sample input's URL
    names) stops before the deal; worker12 is given the task and cannot fetch the input: it
    retries with a growing delay and says so in words. IPFS comes back on the same port a few
    seconds later: the fetch goes through on that same attempt, no failed compute is reported,
    the task goes to no other worker, and it completes with worker12's contribution."""
    from iexec_kit.actors.pool import _fetch_retry
    from iexec_kit.actors.worker import Worker
    from iexec_kit.compute.fetch import FetchRetry
    from iexec_kit.sandbox import DEMO_APP_DIR

    ipfs = node.sb.storage.daemon.api_server
    assert node.info.sample_input.startswith(ipfs.url + "/ipfs/")
    port, where = ipfs.port, f"the IPFS gateway at 127.0.0.1:{ipfs.port}"
    workers("worker12")
    registered(node, "worker12")
    ipfs.stop()
    try:
        with pytest.raises(requests.ConnectionError):
            requests.get(node.info.sample_input, timeout=2)
        deal = buy(node, volume=1, trust=1)
        retried = f"{where} is unreachable (connection refused), retrying in"
        wait_for(lambda: _log(node, "worker12").count(retried) >= 3, 60, "three fetch retries")
    finally:
        ipfs.requested_port = port
        ipfs.start()
    tid = deal.task_id(0)
    left = node.sb.hub.task(tid).contribution_deadline - node.sb.chain.now()
    assert wait_done(node, deal, 60, what=lambda: logs(node)) == [TaskStatus.COMPLETED]
    log = _log(node, "worker12")
    assert f"input of task {tid[:10]}..: {retried} 1 s (attempt 3)" in log
    assert "worker12 (honest) failed" not in log  # no WorkerFailed, no COMPUTE_FAILED
    assert tid not in node.pool.scheduler.failed  # nobody reported a failure on it
    assert list(node.sb.hub.task(tid).contributors) == [worker(node, "worker12").address]
    # the patience of a fetch for this task never runs past its contribution deadline
    spec = node.pool.scheduler.specs[tid]
    w12 = Worker(worker(node, "worker12"), node.sb.hub, app_dir=DEMO_APP_DIR, folder=tmp_path)
    bounded = _fetch_retry(w12, spec, FetchRetry(patience=10**9), print)
    assert 0 < bounded.patience <= left
