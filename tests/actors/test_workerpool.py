"""The workerpool at work, end to end: scheduler, workers, consensus, storage, money.

Each scenario runs the demo on a fresh sandbox (its own chain, IPFS node and result proxy) with
the app's NumPy engine on a small image, and ends COMPLETED or FAILED with the money where
POCO.md says.
"""

from __future__ import annotations

import pytest
from workerpool_checks import by_name, money_conserved, total

from iexec_kit.actors.events import (
    ConsensusReached,
    ContributionCommitted,
    EventStream,
    StakeSeized,
    TaskClaimed,
    TaskFinalized,
    TaskReopened,
    TimeTravelled,
    WorkerFailed,
)
from iexec_kit.errors import InsufficientFundsError, KitValueError
from iexec_kit.protocol.units import RLC
from iexec_kit.tutorial.demo import DemoConfig, run_demo

STAKE = RLC * 30 // 100  # the workers' stake per task: 30% of the workerpool price (1 RLC)


def demo(small_png, stream=None, **kw):
    cfg = DemoConfig(engine="numpy", input=str(small_png), **kw)
    return run_demo(cfg, stream=stream or EventStream())


def test_two_colluding_cheaters_lose_their_stakes(small_png):
    """Issue 7's done-when: 5 honest workers, trust 5, 2 colluding cheaters."""
    report = demo(small_png, workers=5, trust=5, cheaters=2)
    s = report.summary
    assert report.ok, s["tasks"]
    task = s["tasks"][0]
    assert task["status"] == "COMPLETED" and task["result_cid"]
    behaviours = {c["worker"]: (c["behaviour"], c["status"]) for c in task["contributions"]}
    assert (
        sorted(b for b, _ in behaviours.values()).count("colluding") == 2
    )  # both cheaters contributed
    for name, (behaviour, status) in behaviours.items():
        assert status == ("CONTRIBUTED" if behaviour == "colluding" else "PROVED"), name
    before, after = by_name(s, "before"), by_name(s, "after")
    for name, (behaviour, _) in behaviours.items():
        change = total(after[name]) - total(before[name])
        if behaviour == "colluding":
            assert change == -STAKE and after[name]["locked"] == 0
        else:
            assert change > 0
    seized = {e.name for e in report.stream.of(StakeSeized) if e.reason == "stake lost"}
    assert seized == {n for n, (b, _) in behaviours.items() if b == "colluding"}
    # the consensus is the honest digest: the downloaded result recomputes to it
    assert task["result_digest"] == next(
        e.digest
        for e in report.stream
        if getattr(e, "behaviour", None) == "honest" and hasattr(e, "digest")
    )
    assert total(after["requester"]) - total(before["requester"]) == -s["price_per_task"]
    assert money_conserved(s)
    assert set(s["gas"]) >= {"matchOrders", "initialize", "contribute", "reveal", "finalize"}


def test_all_workers_lazy_reopen_then_claim_refunds_the_requester(small_png):
    report = demo(small_png, workers=0, lazy=3, trust=5)
    s, events = report.summary, report.stream
    assert not report.ok and s["tasks"][0]["status"] == "FAILED"
    assert events.of(ConsensusReached) and events.of(TaskReopened) and events.of(TaskClaimed)
    assert events.of(TimeTravelled)  # deadlines were waited for in chain time, not wall time
    before, after = by_name(s, "before"), by_name(s, "after")
    assert (
        total(after["requester"]) == total(before["requester"])
        and after["requester"]["locked"] == 0
    )
    for name in ("worker1", "worker2", "worker3"):  # claim unlocks the contributors' stakes
        assert total(after[name]) == total(before[name]) and after[name]["locked"] == 0
    assert s["kitty"]["after"] - s["kitty"]["before"] == STAKE  # the pool's stake went to the kitty
    assert total(after["scheduler"]) == total(before["scheduler"]) - STAKE
    assert money_conserved(s)


def test_a_crashing_worker_is_replaced(small_png):
    report = demo(small_png, workers=3, crashing=2, trust=5)
    s = report.summary
    assert report.ok and s["tasks"][0]["status"] == "COMPLETED"
    crashed = [e for e in report.stream.of(WorkerFailed) if e.behaviour == "crashing"]
    assert crashed, "the seed should pick a crashing worker first"
    assert {c["behaviour"] for c in s["tasks"][0]["contributions"]} == {"honest"}
    assert money_conserved(s)


def test_too_little_rlc_is_said_before_anything_is_signed(small_png):
    from iexec_kit.sandbox import Sandbox

    with Sandbox.start(workers=3) as sb:
        with pytest.raises(InsufficientFundsError) as err:
            run_demo(DemoConfig(engine="numpy", input=str(small_png), deposit=RLC), sandbox=sb)
        text = str(err.value)
        assert "nothing was signed" in text and "missing 1 RLC" in text and "--deposit" in text
        assert not sb.hub.contract.events.SchedulerNotice.get_logs(from_block=0)  # no deal
        assert sb.hub.account(sb.requester.address).locked == 0


def test_a_scheduler_restarted_mid_deal_resumes_from_the_chain(small_png):
    first = []

    def restart(event):
        if isinstance(event, ContributionCommitted):
            first.append(event)
            return len(first) == 2
        return False

    report = run_demo(
        DemoConfig(engine="numpy", input=str(small_png), workers=3, trust=5, volume=2),
        stream=EventStream(),
        restart_after=restart,
    )
    s = report.summary
    assert report.ok, s["tasks"]
    assert [t["status"] for t in s["tasks"]] == ["COMPLETED", "COMPLETED"]
    assert len(report.stream.of(TaskFinalized)) == 2
    assert money_conserved(s)


def test_an_unreachable_input_url_fails_the_task_and_refunds(small_png):
    report = run_demo(
        DemoConfig(engine="numpy", input="http://127.0.0.1:9/missing.png", workers=3, trust=5),
        stream=EventStream(),
    )
    s = report.summary
    assert not report.ok and s["tasks"][0]["status"] == "FAILED"
    failures = report.stream.of(WorkerFailed)
    assert len(failures) == 3 and all("127.0.0.1:9" in e.reason for e in failures)
    before, after = by_name(s, "before"), by_name(s, "after")
    assert total(after["requester"]) == total(before["requester"])
    assert money_conserved(s)


def test_a_local_input_that_is_not_an_image_is_refused_before_signing(tmp_path):
    from iexec_kit.sandbox import Sandbox

    text = tmp_path / "notes.png"
    text.write_text("this is not a picture\n")
    with Sandbox.start(workers=3) as sb:
        with pytest.raises(KitValueError, match="not a PNG or JPEG picture; nothing was signed"):
            run_demo(DemoConfig(engine="numpy", input=str(text)), sandbox=sb)
        assert sb.hub.hub_rlc() == 0


def serve(folder):
    """An HTTP server of ``folder`` on 127.0.0.1 (a thread); returns (base URL, stop)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop():
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}", stop


def test_a_downloaded_input_that_is_not_an_image_fails_the_task(tmp_path):
    (tmp_path / "notes.png").write_text("this is not a picture\n")
    base, stop = serve(tmp_path)
    try:
        report = run_demo(
            DemoConfig(engine="numpy", input=f"{base}/notes.png", workers=3, trust=5),
            stream=EventStream(),
        )
    finally:
        stop()
    s = report.summary
    assert s["tasks"][0]["status"] == "FAILED" and len(report.stream.of(WorkerFailed)) == 3
    before, after = by_name(s, "before"), by_name(s, "after")
    assert total(after["requester"]) == total(before["requester"])  # refunded
    assert money_conserved(s)


def test_an_http_input_url(small_png):
    """Workers download an http:// input (a server on 127.0.0.1, stopped at the end)."""
    base, stop = serve(small_png.parent)
    try:
        url = f"{base}/{small_png.name}"
        report = run_demo(DemoConfig(engine="numpy", input=url, workers=2), stream=EventStream())
    finally:
        stop()
    assert report.ok and report.summary["input"] == url
    assert report.summary["tasks"][0]["files"] == ["computed.json", f"images/{small_png.name}"]
