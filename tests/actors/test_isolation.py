"""A bad deal fails alone, and a worker reads no local file a requester names.

Security review findings: (A) a request whose params the kit cannot use crashed every drive
(after a scheduler restart too), so an honest deal in the same pool never started and the pool
owner lost its stake at the claim; (B) a worker fetched ``file:///...`` inputs from its own disk
and published their cartoon on IPFS.
"""

from __future__ import annotations

import os
import random

import pytest

import iexec_kit.actors.events as E
from iexec_kit.actors.drive import Drive, build_workerpool
from iexec_kit.actors.events import (
    EventStream,
    ResultUploaded,
    RewardPaid,
    StakeSeized,
    TaskClaimed,
    TaskFinalized,
    WorkerFailed,
)
from iexec_kit.actors.requester import buy_execution
from iexec_kit.actors.scheduler import Scheduler
from iexec_kit.market.providers import publish_app_order, publish_workerpool_order
from iexec_kit.poco.orders import RequestParams
from iexec_kit.protocol import RLC, TaskStatus

BAD_PARAMS = (
    '{"iexec_result_storage_provider":"evil"}',
    '{"iexec_args":5}',
    "this is not JSON",
)


@pytest.fixture
def sb():
    from iexec_kit.sandbox import Sandbox

    with Sandbox.start(workers=2) as sandbox:
        yield sandbox


def _open_market(sb, volume: int, trust: int = 3):
    rng, hub = random.Random(1), sb.hub
    for p in [sb.requester, sb.scheduler, *sb.workers]:
        sb.deposit(p, 20 * RLC)
    publish_app_order(
        hub, sb.book, sb.app_developer, sb.app_address, price=RLC, volume=volume, rng=rng
    )
    publish_workerpool_order(
        hub,
        sb.book,
        sb.scheduler,
        sb.workerpool_address,
        price=RLC,
        volume=volume,
        trust=trust,
        rng=rng,
    )
    sb.storage.storage_init(sb.requester.key)
    return rng


def _buy(sb, params, rng, trust: int = 3):
    return buy_execution(
        sb.hub, sb.book, sb.requester, sb.app_address, params=params, trust=trust, rng=rng
    ).deal


def _honest_params(sb, small_png):
    from iexec_kit.tutorial.demo import publish_input

    return RequestParams(args="--engine numpy", input_files=(publish_input(sb, small_png),))


def _holdings(sb, address) -> int:
    a = sb.hub.account(address)
    return sb.hub.wallet(address) + a.stake + a.locked


def test_bad_deals_fail_alone_and_the_honest_deal_completes(sb, small_png, tmp_path):
    from iexec_kit.actors.results import download_result

    rng = _open_market(sb, volume=len(BAD_PARAMS) + 1)
    bad = [_buy(sb, p, rng) for p in BAD_PARAMS]  # bought first: noticed before the honest one
    honest = _buy(sb, _honest_params(sb, small_png), rng)
    requester_before = _holdings(sb, sb.requester.address)
    stream = EventStream()
    scheduler, _ = build_workerpool(sb, ["honest", "honest"], stream=stream)
    Drive(scheduler).run()

    # the honest deal: COMPLETED, with a result that recomputes to the consensus
    tid = honest.task_ids()[0]
    task = sb.hub.task(tid)
    assert task.status == TaskStatus.COMPLETED
    got = download_result(sb.hub, sb.storage, tid, tmp_path / "result")
    assert got.matches and got.image is not None
    # each bad deal: refused with a reason, in words; its task FAILED by claim
    refused = {e.dealid: e for e in stream.of(E.DealRefused)}
    assert set(refused) == {d.dealid for d in bad}
    for deal, why in zip(bad, ("evil", "iexec_args", "JSON")):
        assert why in refused[deal.dealid].reason
        assert "refused" in refused[deal.dealid].describe()
        assert sb.hub.task(deal.task_ids()[0]).status == TaskStatus.FAILED
    claimed = {e.taskid for e in stream.of(TaskClaimed)}
    assert claimed == {d.task_ids()[0] for d in bad}
    assert not stream.of(E.SchedulerError)
    # money: the requester paid for the honest task only; the pool lost no stake on it
    assert sb.hub.account(sb.requester.address).locked == 0
    assert _holdings(sb, sb.requester.address) == requester_before - honest.price_per_task
    pool_seized = {e.taskid for e in stream.of(StakeSeized) if e.reason == "workerpool stake"}
    assert pool_seized == claimed  # only the refused deals' pool stakes went to the kitty
    assert any(e.taskid == tid and e.account == sb.scheduler.address for e in stream.of(RewardPaid))
    assert sb.hub.account(sb.scheduler.address).locked == 0


def test_a_restarted_scheduler_refuses_the_bad_deal_again_and_goes_on(sb, small_png):
    rng = _open_market(sb, volume=2)
    bad = _buy(sb, BAD_PARAMS[1], rng)
    honest = _buy(sb, _honest_params(sb, small_png), rng)
    stream = EventStream()
    scheduler, workers = build_workerpool(sb, ["honest", "honest"], stream=stream)
    drive = Drive(scheduler)
    drive.run_until(lambda e: isinstance(e, WorkerFailed) or type(e).__name__ == "AppComputed")
    drive.restart_scheduler(
        Scheduler(sb.hub, sb.scheduler, sb.workerpool_address, workers, stream=stream)
    )
    drive.run()
    assert [e.dealid for e in stream.of(E.DealRefused)] == [bad.dealid, bad.dealid]
    assert sb.hub.task(honest.task_ids()[0]).status == TaskStatus.COMPLETED
    assert sb.hub.task(bad.task_ids()[0]).status == TaskStatus.FAILED


def test_a_kit_bug_on_one_task_is_reported_and_does_not_stop_the_drive(sb, small_png):
    """An unexpected exception in one worker's run and in the scheduler's step for one task:
    both are events with their reason; the other deal completes, the broken task is claimed."""
    rng = _open_market(sb, volume=2, trust=2)  # trust 2: one honest worker is enough
    broken = _buy(sb, _honest_params(sb, small_png), rng, trust=2)
    honest = _buy(sb, _honest_params(sb, small_png), rng, trust=2)
    stream = EventStream()
    scheduler, workers = build_workerpool(sb, ["honest", "honest"], stream=stream)
    broken_tid = broken.task_ids()[0]
    real_assign = scheduler._assign

    def assign(tid, task):
        if tid == broken_tid:
            raise ZeroDivisionError("a bug in the kit")
        return real_assign(tid, task)

    scheduler._assign = assign
    real_run = workers[0].runner.run
    calls = []

    def run(*a, **kw):  # the first run of the shared runner hits a bug
        calls.append(1)
        if len(calls) == 1:
            raise TypeError("another bug in the kit")
        return real_run(*a, **kw)

    workers[0].runner.run = run
    Drive(scheduler).run()
    assert sb.hub.task(honest.task_ids()[0]).status == TaskStatus.COMPLETED
    assert sb.hub.task(broken_tid).status == TaskStatus.FAILED
    errors = stream.of(E.SchedulerError)
    assert len(errors) == 1 and errors[0].taskid == broken_tid
    assert "ZeroDivisionError" in errors[0].reason and "bug" in errors[0].describe()
    assert any("TypeError: another bug in the kit" in e.reason for e in stream.of(WorkerFailed))


def test_a_worker_refuses_a_local_input_and_reads_nothing(sb, tmp_path):
    """A requester names a private file of the worker's machine: the worker refuses it with a
    sentence in the failure reason, and its bytes are nowhere in the sandbox (IPFS included)."""
    import numpy as np
    from PIL import Image

    secret = tmp_path / "secret.png"  # a real picture: today's code cartoonizes and publishes it
    pixels = np.random.default_rng(7).integers(0, 256, (24, 24, 3), dtype="uint8")
    Image.fromarray(pixels).save(secret)
    os.chmod(secret, 0o600)
    data = secret.read_bytes()
    rng = _open_market(sb, volume=2)
    deals = [
        _buy(sb, RequestParams(args="--engine numpy", input_files=(src,)), rng)
        for src in (f"file://{secret}", str(secret))
    ]
    stream = EventStream()
    scheduler, _ = build_workerpool(sb, ["honest", "honest"], stream=stream)
    Drive(scheduler).run()
    for deal in deals:
        tid = deal.task_ids()[0]
        assert sb.hub.task(tid).status == TaskStatus.FAILED
        reasons = [e.reason for e in stream.of(WorkerFailed) if e.taskid == tid]
        assert reasons and all("local file" in r and "nothing was read" in r for r in reasons)
    assert not stream.of(ResultUploaded) and not stream.of(TaskFinalized)
    hits = []
    for root, _dirs, files in os.walk(sb.folder):  # the IPFS blockstore, the workers' folders
        for f in files:
            path = os.path.join(root, f)
            try:
                with open(path, "rb") as fh:
                    if data[8:64] in fh.read():
                        hits.append(path)
            except OSError:
                pass
    assert not hits, hits


def test_one_step_reads_the_chain_time_once_for_a_burst_of_events(sandbox, monkeypatch):
    """Three refused deals noticed in one step: three DealRefused and three TaskInitialized, all
    at one chain time read once (it was one read per refusal, then one for the tasks); outside a
    step, publish_orders reads it for its one event."""
    from iexec_kit.market.book import OrderBook

    sb, rng = sandbox, random.Random(3)
    book = OrderBook(sb.hub)  # its own book: the session sandbox's keeps other tests' orders
    for p in (sb.requester, sb.scheduler):
        sb.deposit(p, 20 * RLC)
    volume = len(BAD_PARAMS)
    app_entry = publish_app_order(
        sb.hub, book, sb.app_developer, sb.app_address, price=RLC, volume=volume, rng=rng
    )
    stream = EventStream()
    scheduler = Scheduler(
        sb.hub,
        sb.scheduler,
        sb.workerpool_address,
        [],
        stream=stream,
        from_block=sb.chain.block_number(),
    )
    reads = []
    real_now = sb.chain.now
    monkeypatch.setattr(sb.chain, "now", lambda: reads.append(1) or real_now())
    scheduler.publish_orders(book, app_entry, price=RLC, volume=volume, trust=3, rng=rng)
    assert len(reads) == 1  # one event, one read
    bad = [
        buy_execution(sb.hub, book, sb.requester, sb.app_address, params=p, trust=3, rng=rng).deal
        for p in BAD_PARAMS
    ]
    reads.clear()
    moved, assignments = scheduler.step()
    assert moved and assignments == []
    refused, initialized = stream.of(E.DealRefused), stream.of(E.TaskInitialized)
    assert [e.dealid for e in refused] == [d.dealid for d in bad]
    assert len(initialized) == len(bad)
    assert len(reads) == 1, f"{len(reads)} reads of the chain's time in one step"
    assert len({e.time for e in refused + initialized}) == 1
    scheduler.step()  # the next step reads the time again (a value kept would go stale)
    assert len(reads) == 2
    book.close()
