"""The same workerpool against a Hardhat node (a real JSON-RPC dev chain, offline on 127.0.0.1).
Skipped where node_modules/.bin/hardhat is absent (`npm ci` installs it)."""

from __future__ import annotations

import pytest
from workerpool_checks import money_conserved

from iexec_kit.actors.events import EventStream, StakeSeized, TaskClaimed, TaskReopened
from iexec_kit.errors import DependencyMissingError
from iexec_kit.tutorial.demo import DemoConfig, run_demo


@pytest.fixture(scope="module")
def hardhat_url():
    from iexec_kit.chain.devnode import HardhatNode, find_hardhat

    try:
        find_hardhat()
    except DependencyMissingError as exc:
        pytest.skip(f"{str(exc).splitlines()[0]}: run `npm ci`")
    with HardhatNode() as node:
        yield node.url


def test_cheaters_scenario_on_hardhat(hardhat_url, small_png):
    report = run_demo(
        DemoConfig(
            workers=5,
            trust=5,
            cheaters=2,
            engine="numpy",
            input=str(small_png),
            chain_url=hardhat_url,
        ),
        stream=EventStream(),
    )
    s = report.summary
    assert report.ok and s["chain"].startswith("rpc chain 31337")
    assert {e.name for e in report.stream.of(StakeSeized) if e.reason == "stake lost"} == {
        c["worker"] for c in s["tasks"][0]["contributions"] if c["behaviour"] == "colluding"
    }
    assert money_conserved(s)


def test_lazy_workers_on_hardhat_time_travel(hardhat_url, small_png):
    report = run_demo(
        DemoConfig(
            workers=0, lazy=3, trust=5, engine="numpy", input=str(small_png), chain_url=hardhat_url
        ),
        stream=EventStream(),
    )
    assert report.summary["tasks"][0]["status"] == "FAILED"
    assert report.stream.of(TaskReopened) and report.stream.of(TaskClaimed)
    assert money_conserved(report.summary)
