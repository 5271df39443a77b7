"""The panels of iexec_kit.ui without a browser: real runs and real events in, rendered HTML,
widget state and Output contents checked."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

W = pytest.importorskip("ipywidgets")

from iexec_kit.actors import events as E  # noqa: E402
from iexec_kit.actors.views import task_progress  # noqa: E402
from iexec_kit.protocol.units import RLC  # noqa: E402
from iexec_kit.ui.panels import (  # noqa: E402
    CONSENSUS_CLASS,
    ContributionWatcher,
    DealView,
    OrderInspector,
    RequestBuilder,
    ResultViewer,
    StorageSetupPanel,
)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def errors(panel) -> str:
    return "".join(o.get("text", "") for o in panel.output.outputs if o.get("name") == "stderr")


def test_importing_the_tables_does_not_load_ipywidgets():
    code = (
        "import sys; from iexec_kit.ui import accounts_table; "
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported eagerly'; "
        "from iexec_kit.ui import ContributionWatcher; assert 'ipywidgets' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ----- the watcher over a real run -----------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    """A real demo run (5 honest workers, 2 colluding cheaters, trust 5) watched from the start;
    every value the watcher's HTML took is recorded."""
    from iexec_kit.sandbox import Sandbox
    from iexec_kit.tutorial.demo import DemoConfig, run_demo

    sb = Sandbox.start(workers=7)
    stream = E.EventStream()
    watcher = ContributionWatcher(stream)
    seen = [watcher.view.value]
    watcher.view.observe(lambda change: seen.append(change["new"]), names="value")
    report = run_demo(
        DemoConfig(workers=5, cheaters=2, trust=5, engine="numpy", seed=1),
        sandbox=sb,
        stream=stream,
    )
    yield sb, stream, watcher, report, seen
    watcher.close()
    sb.close()


def test_watcher_shows_the_consensus_of_a_real_run(demo):
    sb, stream, watcher, report, _ = demo
    assert report.ok
    task = report.summary["tasks"][0]
    assert watcher.reached
    assert CONSENSUS_CLASS + "-box" in watcher._dom_classes
    html = watcher.view.value
    assert f"class='{CONSENSUS_CLASS}'" in html and "Consensus reached" in html
    assert "COMPLETED" in html and "colluding" in html and "honest" in html
    state = task_progress(stream)[task["task_id"]]
    assert state.consensus.lower() == task["consensus"].lower()
    assert state.trust == 5
    # every contributor on chain is a row with its commit; the winners revealed
    committed = {a.lower() for a, w in state.workers.items() if w.commit}
    assert committed == {c["address"].lower() for c in task["contributions"]}
    for c in task["contributions"]:
        row = state.workers[c["address"]]
        assert row.revealed == (c["status"] == "PROVED")
        assert row.authorized and row.digest
    # the winning answer's credibility passed the threshold, the cheaters' did not
    cred = state.credibility
    assert cred[state.consensus] > state.threshold
    assert all(v <= state.threshold for h, v in cred.items() if h != state.consensus)


def test_watcher_updated_live_as_events_came(demo):
    *_, seen = demo
    assert "waiting for the scheduler" in seen[0]
    before = [v for v in seen if CONSENSUS_CLASS + "'" not in v]
    assert len(before) >= 3, (
        "the watcher should redraw as contributions arrive, before the consensus"
    )
    assert any("committed" in v and "no consensus yet" in v for v in before)
    assert f"class='{CONSENSUS_CLASS}'" in seen[-1]


def test_watcher_holds_no_state_the_stream_cannot_rebuild(demo):
    _, stream, watcher, *_ = demo
    again = ContributionWatcher(stream)  # made after the run: replays the stream's history
    try:
        assert again.view.value == watcher.view.value
        assert again.reached
    finally:
        again.close()


def test_result_viewer_fetches_and_checks_a_real_result(demo):
    from iexec_kit.tutorial.demo import DEFAULT_INPUT

    sb, _, _, report, _ = demo
    task = report.summary["tasks"][0]
    viewer = ResultViewer.for_task(sb, task["task_id"], DEFAULT_INPUT)
    assert viewer.ok is True
    assert viewer.cid == task["result_cid"]
    assert bytes(viewer.before_image.value) == DEFAULT_INPUT.read_bytes()
    assert (
        bytes(viewer.after_image.value).startswith(b"\x89PNG")
        and viewer.after_image.format == "png"
    )
    assert bytes(viewer.after_image.value) != bytes(viewer.before_image.value)
    assert "same digest" in viewer.info.value and task["result_cid"] in viewer.info.value


# ----- the watcher with synthetic (real) events ------------------------------------------------

TASK, DEAL = "0x" + "11" * 32, "0x" + "22" * 32
GOOD, BAD = "0x" + "aa" * 32, "0x" + "bb" * 32


def commit(i: int, answer: str, behaviour="honest"):
    return E.ContributionCommitted(TASK, f"0x{i:040x}", f"worker{i}", behaviour, answer)


def test_watcher_credibility_follows_the_consensus_math():
    from iexec_kit.poco.consensus import ConsensusState

    stream = E.EventStream()
    w = ContributionWatcher(stream)
    stream.emit(E.DealCreated(DEAL, 1, 2 * RLC, 5, "0x" + "00" * 20, "0x" + "01" * 20))
    stream.emit(E.TaskInitialized(TASK, DEAL, 0, 100, 200))
    math = ConsensusState(5)
    for i, (answer, who) in enumerate(
        [(GOOD, "honest"), (BAD, "colluding"), (GOOD, "honest"), (GOOD, "honest")]
    ):
        stream.emit(commit(i, answer, who))
        math.add(answer, 0)
        row = w.state()[TASK].workers[f"0x{i:040x}"]
        assert row.credibility == pytest.approx(math.credibility(answer))
        assert f"{math.credibility(answer):.2f}" in w.view.value
    assert not w.reached and "no consensus yet" in w.view.value
    stream.emit(commit(4, GOOD))
    stream.emit(E.ConsensusReached(TASK, GOOD, tuple(f"0x{i:040x}" for i in (0, 2, 3, 4)), 300))
    assert (
        w.reached and f"class='{CONSENSUS_CLASS}'" in w.view.value and "4 winner(s)" in w.view.value
    )
    # a reopen takes the consensus back
    stream.emit(E.TaskReopened(TASK))
    assert not w.reached and "reopened" in w.view.value
    assert CONSENSUS_CLASS + "-box" not in w._dom_classes
    w.close()
    stream.emit(E.TaskFinalized(TASK, "{}"))  # unsubscribed: no redraw
    assert "COMPLETED" not in w.view.value


def test_watcher_is_thread_safe():
    stream = E.EventStream()
    w = ContributionWatcher(stream)
    stream.emit(E.TaskInitialized(TASK, DEAL, 0, 100, 200))
    n = 40
    threads = [
        threading.Thread(target=lambda i=i: stream.emit(commit(i, GOOD if i % 3 else BAD)))
        for i in range(n)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.refresh()
    rows = w.state()[TASK].workers
    assert len(rows) == n and all(r.commit for r in rows.values())
    assert w.view.value.count("<tr>") == (n + 1) + (
        2 + 1
    )  # worker rows + header, answer rows + header
    w.close()


def test_a_failing_redraw_shows_in_the_output_and_spares_the_actors(monkeypatch):
    stream = E.EventStream()
    w = ContributionWatcher(stream)
    monkeypatch.setattr(w, "state", lambda: 1 / 0)
    stream.emit(E.TaskInitialized(TASK, DEAL, 0, 100, 200))  # does not raise in the emitter
    assert "ZeroDivisionError" in errors(w)
    assert w.output.layout.display is None
    w.close()


def test_result_viewer_from_bytes_flags_a_different_digest():
    v = ResultViewer(PNG, PNG, cid="QmX", digest="0x" + "01" * 32, chain_digest="0x" + "02" * 32)
    assert v.ok is False and "the digests differ" in v.info.value
    assert v.before_image.format == "png" and v.after_image.layout.width == "320px"


# ----- the step panels on a real sandbox ----------------------------------------------------


@pytest.fixture(scope="module")
def tutorial():
    """A sandbox whose orders are published (the start of notebook 03)."""
    from iexec_kit.tutorial.steps import at

    t = at("request")
    yield t
    t.sb.close()


def test_storage_panel_signs_in_and_shows_challenge_signature_token(tutorial):
    sb = tutorial.sb
    panel = StorageSetupPanel(sb)
    assert panel.params()["storage_provider"] == "ipfs" and panel.params()["encryption"] is False
    panel.sign_in.click()
    assert errors(panel) == ""
    token = sb.storage.token_for(sb.requester.address)
    assert token and token[:20] in panel.challenge.value
    assert (
        "iExec Result Repository" in panel.challenge.value and "signature" in panel.challenge.value
    )
    assert "signed in as requester" in panel.texts()
    panel.choice.value = "private"
    assert panel.params()["storage_provider"] == "dropbox" and "dropbox" in panel.help.value
    panel.choice.value = "encrypted IPFS"
    assert panel.params()["encryption"] is True
    panel.sign_in.click()
    assert "beneficiary key" in panel.challenge.value


def test_order_inspector_shows_signer_and_hash(tutorial):
    sb = tutorial.sb
    panel = OrderInspector(sb, [tutorial.app_entry, tutorial.workerpool_entry])
    assert sb.app.owner in panel.view.value
    assert tutorial.app_entry.hash in panel.view.value and "✔ same" in panel.view.value
    panel.pick.value = 1
    assert sb.scheduler.address in panel.view.value and "workerpoolprice" in panel.view.value
    single = OrderInspector(sb, tutorial.app_entry.order)
    assert "0x" + tutorial.app_entry.order.hash(sb.hub.domain()).hex() in single.view.value


def problem(panel) -> str:
    return panel.message.value


def test_request_builder_refuses_bad_input_with_a_sentence_then_buys_once(tutorial, tmp_path):
    sb = tutorial.sb
    panel = RequestBuilder(sb)
    buy = panel.buy_button
    nonce = sb.chain.w3.eth.get_transaction_count(sb.requester.address)
    locked = sb.account(sb.requester).locked

    def refused(*words):
        buy.click()
        text = problem(panel)
        assert "iexec-problem" in text and "Nothing was signed or locked" in text, text
        for w in words:
            assert w in text, (w, text)
        assert panel.deal.value == "" and panel.match is None

    refused("image field is empty")
    panel.image.value = "http://127.0.0.1:9/cat.png"  # nothing listens on port 9
    refused("does not answer")
    not_a_picture = tmp_path / "notes.txt"
    not_a_picture.write_text("hello")
    panel.image.value = str(not_a_picture)
    refused("not a PNG or JPEG picture")
    panel.upload_bytes("notes.txt", b"just text")
    assert "notes.txt is not a picture" in problem(panel)
    panel.use_sample()
    assert panel.image.value.startswith("/ipfs/")
    panel.trust.value = 0
    refused("Trust 0")
    panel.trust.value = 1
    panel.app_max.value = 0.5
    refused("app max price 0.5 RLC is below", "1 RLC")
    panel.app_max.value, panel.pool_max.value = 1.0, 0.0
    refused("workerpool max price 0 RLC is below")
    panel.pool_max.value = 1.0
    panel.volume.value = 50
    refused("Volume 50 is more than the orders have left")
    panel.volume.value = 1
    # nothing was signed or sent: the requester's nonce and locks did not move
    assert sb.chain.w3.eth.get_transaction_count(sb.requester.address) == nonce
    assert sb.account(sb.requester).locked == locked
    # the price check shows, then the kit's funds error (in the output) and no deal
    before = [sb.account(sb.requester), sb.account(sb.scheduler)]
    buy.click()
    assert "Price check" in panel.quote_view.value and "not enough" in panel.quote_view.value
    assert "InsufficientFundsError" in errors(panel) and "deposit" in errors(panel)
    assert panel.match is None
    sb.deposit(sb.requester, 10 * RLC)
    buy.click()
    assert errors(panel) == "", errors(panel)
    assert "iexec-deal-id" in panel.deal.value and "matchOrders made deal" in panel.texts()
    assert "✔ enough" in panel.quote_view.value
    dealid = panel.match.dealid
    assert dealid in panel.deal.value
    # Buy pressed twice: one deal, a sentence
    locked_once = sb.account(sb.requester).locked
    buy.click()
    assert "already bought deal" in problem(panel) and panel.match.dealid == dealid
    assert sb.account(sb.requester).locked == locked_once
    deal = sb.hub.deal(dealid)
    assert deal.request_params().input_files == (panel.image.value,)
    assert "--style gimpfu" in deal.request_params().args
    view = DealView(sb, dealid, before=before)
    assert "contribution deadline" in view.view.value and "final deadline" in view.view.value
    deadlines = sb.hub.deadlines(deal)  # the hub's ratios, not numbers of the panel's own
    contribution, reveal, final = deadlines.ratios
    assert f"({contribution} clocks)" in view.view.value and f"({final} clocks)" in view.view.value
    assert f"({reveal} clocks)" in view.view.value
    assert f"{deal.price_per_task / RLC:g} per task" in view.view.value
    assert sb.requester.address in view.view.value
    # locked before 0, after the price of the task
    assert f"<td style='padding:2px 8px'>{deal.price_per_task / RLC:g}</td>" in view.view.value
    refresh = next(c for c in view.children if isinstance(c, W.Button))
    refresh.click()
    assert errors(view) == "" and "final deadline" in view.view.value
    # New request: the orders are used up now, so the next Buy says so (no second deal)
    panel.new_button.click()
    refused("no live")


def test_request_builder_takes_an_uploaded_picture(tutorial):
    from iexec_kit.tutorial.demo import DEFAULT_INPUT

    panel = RequestBuilder(tutorial.sb)
    url = panel.upload_bytes("my cat.png", DEFAULT_INPUT.read_bytes())
    assert url.startswith("/ipfs/") and url.endswith("my cat.png") and panel.image.value == url
    assert tutorial.sb.storage.ipfs.cat(url[len("/ipfs/") :]) == DEFAULT_INPUT.read_bytes()
    # the FileUpload widget itself, as the browser fills it (ipywidgets 8's value)
    import datetime as dt

    def upload(name, data):
        panel.upload.value = (
            {
                "name": name,
                "type": "",
                "size": len(data),
                "content": memoryview(data),
                "last_modified": dt.datetime.now(dt.UTC),
            },
        )

    upload("notes.txt", b"not a picture")
    assert "notes.txt is not a picture" in problem(panel) and panel.image.value == url
    upload("again.png", DEFAULT_INPUT.read_bytes())
    assert panel.image.value.endswith("again.png") and errors(panel) == ""
    assert problem(panel) == ""  # the refusal went with the good file


def test_dapp_inspector_reads_app_registry_entry_and_owner(tutorial):
    from iexec_kit.ui.panels import DappInspector

    sb = tutorial.sb
    panel = DappInspector(sb)
    assert "press the button" in panel.view.value  # the initial render reads nothing
    panel.inspect_button.click()
    assert errors(panel) == "", errors(panel)
    html = panel.view.value
    assert sb.app.name in html and sb.app.multiaddr in html
    assert "Registry entry" in html
    assert "registered there</td><td style='padding:2px 8px'>yes" in html
    assert f"title='{sb.app.owner}'" in html and "app_developer" in html
    assert "owned by app_developer" in panel.texts()


def test_order_inspector_in_words_rlc_and_the_signer(tutorial):
    sb = tutorial.sb
    panel = OrderInspector(sb, [tutorial.app_entry, tutorial.workerpool_entry])
    html = panel.view.value
    assert "1 RLC per task" in html and "any workerpool" in html and "any requester" in html
    assert "iexec-signer-ok" in html and panel.signer == sb.app.owner
    panel.pick.value = 1
    assert panel.signer == sb.scheduler.address and "credibility &gt;" in panel.view.value


def test_a_button_error_ends_in_the_learners_code():
    from iexec_kit.ui.panels import Panel

    panel = Panel()
    assert panel.output.layout.display == "none"  # hidden until written to

    def learners_callback():
        return {}["missing"]

    button = panel._button("go", learners_callback)
    button.click()
    err = errors(panel)
    assert "KeyError" in err and "learners_callback" in err and panel.output.layout.display is None
    assert "ipywidgets" not in err and "iexec_kit/ui" not in err
    panel.say("next click clears the output")
    button.click()
    assert "next click" not in panel.texts()


def test_request_builder_saves_the_learners_choices_on_buy(tmp_path):
    from iexec_kit.tutorial.choices import Choices
    from iexec_kit.tutorial.demo import DEFAULT_INPUT
    from iexec_kit.tutorial.steps import at

    t = at("request")
    try:
        sb = t.sb
        sb.deposit(sb.requester, 10 * RLC)
        where = tmp_path / "choices.json"
        panel = RequestBuilder(sb, save_choices=str(where))
        panel.upload_bytes("mine.png", DEFAULT_INPUT.read_bytes())
        panel.style.value = "cartoon"
        panel.buy_button.click()
        assert errors(panel) == "" and panel.match is not None, problem(panel)
        assert "choices are saved" in panel.texts() and panel.saved_to == where
        saved = Choices.load(where)
        assert saved.style == "cartoon" and saved.engine == "numpy" and saved.trust == 1
        assert saved.input == str(tmp_path / "inputs" / "mine.png")
        assert (tmp_path / "inputs" / "mine.png").read_bytes() == DEFAULT_INPUT.read_bytes()
    finally:
        t.sb.close()
