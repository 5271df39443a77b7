"""The scheduler service (PoolService) on the in-process chain: a long poll's ``wait`` that is
not a number of seconds is refused in words over real HTTP, and reaping a silent worker reads
the chain's time once, outside the lock every worker's call takes."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from iexec_kit.actors.events import WorkerFailed
from iexec_kit.actors.pool import MAX_WAIT, PoolError, PoolService, RemoteWorker, SchedulerClient


@pytest.fixture(scope="module")
def pool(sandbox_session):
    """A started service on the session's chain, looking only at deals made from now on (none:
    it sends no transaction); the chain is reverted after."""
    sb = sandbox_session
    snap = sb.snapshot()
    service = PoolService(sb.hub, sb.scheduler, sb.workerpool_address, urls={}, ping_timeout=600)
    service.scheduler.from_block = sb.chain.block_number()
    with service.start():
        yield sb, service
    sb.revert(snap)


def test_a_long_poll_refuses_a_wait_that_is_not_a_number_of_seconds(pool):
    sb, service = pool
    client = SchedulerClient(
        service.url, bytes(sb.workers[0].key), name="worker1", behaviour="honest", timeout=10
    )
    client.sign_in()
    url, headers = (
        service.url + "/replicates/interrupted",
        {"Authorization": f"Bearer {client.token}"},
    )
    for wait in ("nan", "NaN", "inf", "-inf", "-1", "soon", ""):
        res = requests.get(url, params={"wait": wait}, headers=headers, timeout=10)
        assert res.status_code == 400, (wait, res.status_code, res.text)
        message = res.json()["message"]
        assert message.startswith("wait (the long poll's seconds) must be a number from 0"), message
        assert f"got: {wait!r}" in message and f"0 to {MAX_WAIT:g}" in message, message
        assert "what to do: ask e.g. ?wait=" in message, message
    # the worker's client says it in words too
    with pytest.raises(PoolError, match="must be a number from 0"):
        client.interrupted(wait=float("nan"))
    # a number of seconds is served: at once with 0, held (no news here) with a short wait
    res = requests.get(url, params={"wait": "0"}, headers=headers, timeout=10)
    assert res.status_code == 200 and res.json() == []
    started = time.monotonic()
    assert client.interrupted(wait=0.3) == []
    assert time.monotonic() - started >= 0.3
    # no token: the token check still comes first
    assert requests.get(url, params={"wait": "nan"}, timeout=10).status_code == 401


def test_reaping_a_silent_worker_reads_the_time_once_outside_the_lock(sandbox_session, monkeypatch):
    sb = sandbox_session
    service = PoolService(sb.hub, sb.scheduler, sb.workerpool_address, urls={}, ping_timeout=5)
    silent, empty, alive = (
        RemoteWorker(w.address, w.name, "honest", "s", timeout=5) for w in sb.workers[:3]
    )
    tids = ["0x" + "0a" * 32, "0x" + "0b" * 32]
    silent.computing.update(dict.fromkeys(tids))  # its assignments: _reap reads only their ids
    for h in (silent, empty):
        h.last_seen -= 60
    for h in (silent, empty, alive):
        service.handles[h.address.lower()] = h

    def lock_free() -> bool:
        """Whether another thread (a worker's HTTP call) could take the service's lock now."""
        got = []

        def probe():
            ok = service.lock.acquire(blocking=False)
            if ok:
                service.lock.release()
            got.append(ok)

        t = threading.Thread(target=probe)
        t.start()
        t.join()
        return got[0]

    reads = []
    real_now = sb.chain.now
    monkeypatch.setattr(sb.chain, "now", lambda: reads.append(lock_free()) or real_now())
    assert service._reap() is True
    assert reads == [True], f"chain time reads (True: with the lock free): {reads}"
    assert silent.gone and empty.gone and not alive.gone
    failed = service.stream.of(WorkerFailed)
    assert [e.taskid for e in failed] == tids and len({e.time for e in failed}) == 1
    assert all("no ping for 5 s" in e.reason for e in failed)
    assert service.scheduler.failed == {tid: {silent.address} for tid in tids}
    reads.clear()
    assert service._reap() is False and reads == []  # nobody new is silent: no read at all


def test_a_chain_that_fails_during_reaping_still_hands_the_tasks_on(sandbox_session, monkeypatch):
    """The silent worker's tasks are reported failed before any chain read: a chain that does not
    answer that once cannot leave them counted as computing (a second reap skips gone workers)."""
    sb = sandbox_session
    service = PoolService(sb.hub, sb.scheduler, sb.workerpool_address, urls={}, ping_timeout=5)
    silent = RemoteWorker(sb.workers[3].address, sb.workers[3].name, "honest", "s", timeout=5)
    tid = "0x" + "0c" * 32
    silent.computing.update(dict.fromkeys([tid]))
    silent.last_seen -= 60
    service.handles[silent.address.lower()] = silent

    def down():
        raise ConnectionError("the chain does not answer")

    monkeypatch.setattr(sb.chain, "now", down)
    assert service._reap() is True
    assert service.scheduler.failed == {tid: {silent.address}}
    failed = service.stream.of(WorkerFailed)
    assert [e.taskid for e in failed] == [tid] and failed[0].time == 0
