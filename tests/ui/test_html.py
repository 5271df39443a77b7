"""The panels' HTML as plain functions: kit data in, escaped HTML out (no ipywidgets)."""

from __future__ import annotations

from iexec_kit.actors import events as E
from iexec_kit.actors.views import task_progress
from iexec_kit.poco.deals import Deal, Resource
from iexec_kit.protocol.categories import ProtocolConfig
from iexec_kit.protocol.units import RLC
from iexec_kit.ui.html import CONSENSUS_CLASS, WAITING_CLASS, render_deal, render_watch, short

TASK, DEAL = "0x" + "11" * 32, "0x" + "22" * 32


def test_short_and_escaping_in_the_watcher():
    assert short("0x" + "ab" * 20) == "0x" + "ab" * 5 + "…" and short("0x12") == "0x12"
    assert WAITING_CLASS in render_watch({})
    events = [
        E.TaskInitialized(TASK, DEAL, 0, 100, 200),
        E.ContributionCommitted(TASK, "0x" + "01" * 20, "<b>eve</b>", "honest", "0x" + "aa" * 32),
    ]
    html = render_watch(task_progress(events))
    assert "&lt;b&gt;eve&lt;/b&gt;" in html and "<b>eve</b>" not in html
    assert "no consensus yet" in html and f"class='{CONSENSUS_CLASS}'" not in html


def test_the_deal_deadlines_are_the_hubs_ratios():
    config = ProtocolConfig(3, 2, 5, 30, 10, 0, "0x" + "00" * 20)  # not iExec's 7, 2, 10
    clock = 300
    owner = "0x" + "0a" * 20
    deal = Deal(
        DEAL,
        Resource("0x" + "01" * 20, owner, 1 * RLC),
        Resource("0x" + "00" * 20, "0x" + "00" * 20, 0),
        Resource("0x" + "02" * 20, owner, 1 * RLC),
        1,
        0,
        "0x" + "00" * 32,
        "0x" + "03" * 20,
        "0x" + "03" * 20,
        "0x" + "00" * 20,
        "{}",
        0,
        0,
        1,
        0,
        1,
    )
    html = render_deal(deal, config.deadlines(deal.start_time, clock), [("requester", 0, RLC, 0)])
    assert "+15 min (3 clocks)" in html and "+25 min (5 clocks)" in html
    assert "+10 min (2 clocks)" in html and "1970-01-01 00:15 UTC" in html
    assert "7 clocks" not in html and "10 clocks" not in html
