"""The event stream, the drive as a generator, and the demo's other roads: encryption, private
storage, a slow worker, an outside IPFS API."""

from __future__ import annotations

import pytest
from workerpool_checks import money_conserved

from iexec_kit.actors.drive import Drive, build_workerpool
from iexec_kit.actors.events import (
    EVENT_TYPES,
    AppComputed,
    ContributionCommitted,
    DealCreated,
    Event,
    EventStream,
    ResultUploaded,
    TaskFinalized,
    TimeTravelled,
    Tx,
)
from iexec_kit.actors.worker import Behaviour
from iexec_kit.errors import KitValueError
from iexec_kit.tutorial.demo import DemoConfig, run_demo


def test_stream_callbacks_iteration_and_filters():
    stream, seen = EventStream(), []
    unsubscribe = stream.subscribe(seen.append)
    a = stream.emit(
        TaskFinalized("0x" + "11" * 32, '{"storage":"ipfs"}', tx=Tx("0xab", 7, 400_000))
    )
    unsubscribe()
    b = stream.emit(TimeTravelled(600, "waiting for a deadline"))
    assert (
        seen == [a]
        and list(stream) == [a, b]
        and stream.of(TimeTravelled) == [b]
        and stream.since(1) == [b]
    )
    assert stream.gas_by_operation() == {"finalize": [400_000]}
    assert a.as_dict()["kind"] == "task_finalized" and a.as_dict()["tx"]["block"] == 7
    with pytest.raises(AttributeError):
        a.taskid = "x"  # frozen
    assert all(issubclass(t, Event) for t in EVENT_TYPES.values()) and len(EVENT_TYPES) >= 15


def test_behaviour_names_are_checked():
    assert Behaviour.parse("Lazy") is Behaviour.LAZY
    with pytest.raises(KitValueError, match="honest, cheater, colluding, lazy, crashing, slow"):
        Behaviour.parse("sleepy")


def test_drive_is_a_generator_of_events_in_a_deterministic_order(small_png):
    """Two runs of the same deal on two fresh sandboxes give the same sequence of events (trust 3:
    three honest workers outweigh one cheater; at trust 4 they would not, and the task fails)."""
    import random

    from iexec_kit.actors.requester import buy_execution
    from iexec_kit.market.providers import publish_app_order
    from iexec_kit.poco.orders import RequestParams
    from iexec_kit.sandbox import Sandbox

    def once():
        with Sandbox.start(workers=4) as sb:
            stream = EventStream()
            scheduler, workers = build_workerpool(
                sb, [Behaviour.HONEST] * 3 + [Behaviour.CHEATER], stream=stream
            )
            rng, hub = random.Random(3), sb.hub
            for p in [sb.requester, sb.scheduler] + [w.participant for w in workers]:
                sb.deposit(p, 10 * 10**9)
            entry = publish_app_order(
                hub, sb.book, sb.app_developer, sb.app_address, price=10**9, rng=rng
            )
            scheduler.publish_orders(sb.book, entry, price=10**9, volume=1, trust=3, rng=rng)
            from iexec_kit.tutorial.demo import publish_input

            params = RequestParams(
                args="--style gimpfu --engine numpy", input_files=(publish_input(sb, small_png),)
            )
            buy_execution(
                hub, sb.book, sb.requester, sb.app_address, params=params, trust=3, rng=rng
            )
            sb.storage.storage_init(sb.requester.key)
            gen = Drive(scheduler).events()
            first = next(gen)  # live: the first event comes before the deal is done
            assert not scheduler.done()
            rest = list(gen)
            assert scheduler.done()
            return [type(e).__name__ + ":" + getattr(e, "name", "") for e in [first] + rest]

    a, b = once(), once()
    assert a == b and "TaskFinalized:" in a


def test_encrypted_result_travels_encrypted_and_decrypts_to_the_consensus(small_png):
    from iexec_kit.sandbox import Sandbox
    from iexec_kit.storage.encryption import is_encrypted_result

    with Sandbox.start(workers=3) as sb:
        report = run_demo(
            DemoConfig(engine="numpy", input=str(small_png), encrypt=True),
            sandbox=sb,
            stream=EventStream(),
        )
        assert report.ok
        location = report.stream.of(ResultUploaded)[0].location
        assert is_encrypted_result(sb.storage.fetch(location))


def test_private_storage_and_a_slow_worker(small_png):
    report = run_demo(
        DemoConfig(
            engine="numpy", input=str(small_png), workers=2, slow=1, trust=5, storage="private"
        ),
        stream=EventStream(),
    )
    s = report.summary
    assert report.ok and s["tasks"][0]["result_path"]
    assert report.stream.of(ResultUploaded)[0].location.startswith("/results/")
    slow = [e for e in report.stream.of(AppComputed) if e.behaviour == "slow"]
    if slow:  # picked: it contributed after a jump in chain time
        commits = [e.name for e in report.stream.of(ContributionCommitted)]
        assert commits[-1] == slow[0].name and report.stream.of(TimeTravelled)
    assert money_conserved(s)


def test_an_outside_ipfs_api(small_png, tmp_path):
    """--ipfs URL: the same demo over a Kubo RPC API (here the kit's own daemon, on 127.0.0.1)."""
    from iexec_kit.storage import IpfsDaemon

    with IpfsDaemon(tmp_path / "kubo") as daemon:
        report = run_demo(
            DemoConfig(engine="numpy", input=str(small_png), ipfs_api=daemon.api_url),
            stream=EventStream(),
        )
        assert report.ok
        cid = report.summary["tasks"][0]["result_cid"]
        assert daemon.node.cat(cid)[:2] == b"PK"  # the result zip is in that node


def test_deal_created_event_has_its_transaction(small_png):
    report = run_demo(
        DemoConfig(engine="numpy", input=str(small_png), workers=1), stream=EventStream()
    )
    deal = report.stream.of(DealCreated)[0]
    assert (
        deal.tx.gas > 500_000
        and deal.dealid == report.summary["deal_id"]
        and report.summary["trust"] == 2
    )  # one worker is enough at trust 2


def test_sandbox_workerpool_drive_runs_a_deal_bought_by_hand(small_png):
    """The notebooks' road: buy with buy_execution, then let the sandbox's workerpool work."""
    import random

    from iexec_kit.actors.requester import buy_execution
    from iexec_kit.market.providers import publish_app_order, publish_workerpool_order
    from iexec_kit.poco.orders import RequestParams
    from iexec_kit.sandbox import Sandbox
    from iexec_kit.tutorial.demo import publish_input

    with Sandbox.start(workers=2) as sb:
        rng, hub, RLC = random.Random(1), sb.hub, 10**9
        for p in [sb.requester, sb.scheduler, *sb.workers]:
            sb.deposit(p, 5 * RLC)
        publish_app_order(hub, sb.book, sb.app_developer, sb.app_address, price=RLC, rng=rng)
        publish_workerpool_order(
            hub, sb.book, sb.scheduler, sb.workerpool_address, price=RLC, trust=3, rng=rng
        )
        sb.storage.storage_init(sb.requester.key)
        params = RequestParams(args="--engine numpy", input_files=(publish_input(sb, small_png),))
        deal = buy_execution(
            hub, sb.book, sb.requester, sb.app_address, params=params, trust=3, rng=rng
        )
        drive = sb.workerpool_drive(["honest", "honest"])
        events = drive.run()
        assert isinstance(events[-1], TaskFinalized) or any(
            isinstance(e, TaskFinalized) for e in events
        )
        task = hub.task(deal.deal.task_id(0))
        assert task.status.name == "COMPLETED" and task.results_json()["storage"] == "ipfs"
