"""The demo page's logic without a browser: the flow's gating and progress (plain Python), then
the whole page clicked through in-process (its buttons' ``click()``), and "Start again"."""

from __future__ import annotations

import pytest

from iexec_kit.errors import KitValueError
from iexec_kit.ui.page import KEYS, STEPS, PageFlow, error_sentence


def test_flow_enables_one_step_after_another():
    flow = PageFlow()
    assert [k for k in KEYS if flow.enabled(k)] == ["storage", "orders"]
    assert "needs Storage Set-up and Step 0" in flow.why_not("buy")
    assert flow.start("buy") is not None and flow.running is None  # refused, nothing started
    for key in ("storage", "orders"):
        assert flow.start(key) is None
        assert not flow.enabled("buy")  # nothing else while a step runs
        flow.finish(key)
    assert flow.enabled("buy") and not flow.enabled("deal")
    assert flow.progress().startswith("2/6 done · next: Step 1 · Request Order Buy")


def test_flow_errors_leave_the_step_to_retry_and_reset_clears():
    flow = PageFlow()
    flow.start("storage")
    flow.finish("storage", "This step did not work: no proxy.")
    assert "storage" not in flow.done and flow.errors["storage"]
    assert flow.enabled("storage")
    for key in KEYS:
        assert flow.start(key) is None
        flow.finish(key)
    assert flow.complete and "complete" in flow.progress()
    assert "is done" in flow.why_not("storage")  # a second click does nothing twice
    flow.reset()
    assert not flow.done and not flow.errors and flow.next_step() is STEPS[0]


def test_error_sentence_is_one_line_without_traceback():
    s = error_sentence(KitValueError("no input image there", expected="a file", got="x"))
    assert "\n" not in s and "no input image there" in s and "Traceback" not in s
    s = error_sentence(ValueError("bad\nsecond line"))
    assert s == "This step did not work: ValueError: bad. Try again, or press 'Start again'."


def test_page_notebook_is_thin_and_committed_without_outputs():
    import nbformat

    from iexec_kit.ui.voila_server import PAGE

    nb = nbformat.read(PAGE, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) <= 3 and "DemoPage" in code[-1].source
    assert all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.slow
def test_page_clicked_through_then_started_again():
    pytest.importorskip("ipywidgets")
    from iexec_kit.ui.page import DemoPage

    page = DemoPage()
    try:
        assert page.buttons["deal"].disabled and page.buttons["orders"].disabled is False
        page.buttons["deal"].click()  # not enabled yet: a sentence, nothing run
        assert "needs Step 1" in page.messages["deal"].value
        page.storage.sign_in.click()
        assert page.state()["token"] and "storage" in page.flow.done
        assert page.request is None  # Buy appears once the orders are inspected too
        page.buttons["orders"].click()
        assert "iexec-page-signer" in page.sections["orders"].children[1].children[0].value
        assert page.request is not None and not page.request.buy_button.disabled
        page.request.buy_button.click()
        assert page.state()["deal"], page.request.message.value + page.request.texts()
        real = page._do_deal  # a step that fails: a sentence in its section, left to retry
        page._do_deal = lambda: (_ for _ in ()).throw(RuntimeError("the chain went away\nat x"))
        page.buttons["deal"].click()
        said = page.messages["deal"].value
        assert "This step did not work: RuntimeError: the chain went away." in said
        assert "Traceback" not in said and not page.buttons["deal"].disabled
        page._do_deal = real
        page.buttons["deal"].click()
        assert "deal" in page.flow.done and page.messages["deal"].value == ""
        page.buttons["execution"].click()
        assert page.wait("execution", 180), page.state()
        assert page.watcher.reached
        page.buttons["finalization"].click()
        assert page.flow.complete, page.state()
        assert page.viewer.ok is True
        first = page.t.sb
        page.restart_button.click()
        assert page.t.sb is not first and not page.flow.done
        assert page.state()["progress"].startswith("0/6 done")
    finally:
        page.close()
