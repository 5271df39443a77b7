"""Workshop faults with real processes that need a node of their own: the scheduler killed and
restarted mid-deal, a worker whose token expired, two workers started with the same key. The
faults that share one node (workers SIGKILLed before and after contributing, a late joiner, a
worker reporting what it never committed, the result proxy unreachable) are in
test_workshop_faults_shared.py."""

from __future__ import annotations

import signal
import time

import pytest
import requests
from workshop_helpers import (
    buy,
    free_port,
    logs,
    need_hardhat,
    start_scheduler,
    wait_done,
    wait_for,
)

from iexec_kit.node import Node, NodeConfig
from iexec_kit.protocol.statuses import TaskStatus


def _log(node, name: str) -> str:
    path = node.folder / "logs" / f"{name}.log"
    return path.read_text() if path.exists() else ""


def test_the_scheduler_killed_mid_deal_resumes_from_the_chain(tmp_path, procs):
    need_hardhat()
    config = NodeConfig(workers=2, workerpool="external")
    with Node(tmp_path, config=config).start() as node:
        (node.folder / "logs").mkdir(exist_ok=True)
        port = free_port()
        sched, url = start_scheduler(node, port)
        procs.append(sched)
        for name in ("worker1", "worker2"):
            node.start_worker_process(name, scheduler_url=url)
        registered = lambda: len(requests.get(url + "/pool", timeout=2).json()["workers"]) == 2  # noqa: E731
        wait_for(registered, 60, "2 workers registered")
        deal = buy(node, volume=6, trust=1)

        def one_done():
            st = [s for s in wait_statuses(node, deal)]
            return TaskStatus.COMPLETED in st

        wait_for(one_done, 90, "a first task completed")
        sched.send_signal(signal.SIGKILL)
        sched.wait(10)
        left = [s for s in wait_statuses(node, deal) if s != TaskStatus.COMPLETED]
        time.sleep(1.0)
        sched2, _ = start_scheduler(node, port)
        procs.append(sched2)
        st = wait_done(node, deal, 120, what=lambda: logs(node))
        assert st == [TaskStatus.COMPLETED] * 6
        assert left, "the deal ended before the scheduler was killed (nothing was resumed)"
        assert "signed in" in _log(node, "worker1")


def wait_statuses(node, deal):
    from workshop_helpers import statuses

    return statuses(node, deal)


@pytest.fixture(scope="module")
def short_tokens(tmp_path_factory):
    need_hardhat()
    config = NodeConfig(
        workers=3, workerpool="processes", behaviours=("honest",), token_ttl=3, ping_timeout=5
    )
    with Node(tmp_path_factory.mktemp("tokens"), config=config).start() as node:
        wait_for(lambda: node.pool.view()["workers"], 60, "worker1 registered")
        yield node


def test_a_second_worker_with_the_same_key_is_refused(short_tokens):
    node = short_tokens
    second = node.start_worker_process("worker1")
    code = second.wait(60)
    assert code == 3, _log(node, "worker1-2")
    assert "already connected" in _log(node, "worker1-2")
    assert node.worker_procs[0].poll() is None  # the first goes on


def test_an_expired_token_is_refused_then_the_worker_signs_in_again(short_tokens):
    """A token lives 3 s here: a call with an old one is refused (401), and the worker process
    signs in again by itself, serving a deal across several tokens."""
    from iexec_kit.actors.pool import SchedulerClient

    node = short_tokens
    key = node.sb.workers[2].key
    client = SchedulerClient(node.pool.url, key, name="probe", behaviour="lazy")
    client.sign_in()
    assert requests.post(
        node.pool.url + "/workers/ping", headers={"Authorization": f"Bearer {client.token}"}
    ).ok
    time.sleep(3.5)
    refused = requests.post(
        node.pool.url + "/workers/ping", headers={"Authorization": f"Bearer {client.token}"}
    )
    assert refused.status_code == 401 and "sign in" in refused.json()["message"]
    client.ping()  # signs in again, then pings
    assert client.logins == 2
    logins = node.pool.logins
    deal = buy(node, volume=2, trust=1)
    assert wait_done(node, deal, 90, what=lambda: logs(node)) == [TaskStatus.COMPLETED] * 2
    wait_for(lambda: node.pool.logins > logins, 15, "the worker process signing in again")
