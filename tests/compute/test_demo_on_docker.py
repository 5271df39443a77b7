"""The whole demo with the Docker runner: the app's image in containers on the kit's private
engine, which this session's fixtures start (and build the image for) where an engine can run."""

from __future__ import annotations

from pathlib import Path

from iexec_kit.actors.events import AppComputed, EventStream
from iexec_kit.tutorial.demo import DemoConfig, run_demo

REPO = Path(__file__).resolve().parents[2]


def test_demo_with_the_docker_runner(docker_host, app_image, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    stream = EventStream()
    report = run_demo(
        DemoConfig(
            workers=3, engine="numpy", input=str(REPO / "data" / "chelsea.png"), runner="docker"
        ),
        stream=stream,
    )
    assert report.ok, report.summary["tasks"]
    task = report.summary["tasks"][0]
    assert task["status"] == "COMPLETED" and task["result_cid"]
    assert len(stream.of(AppComputed)) >= 3  # every contribution computed in a container
    after = report.summary["accounts"]["after"]
    held = sum(a["stake"] + a["locked"] for a in after.values()) + report.summary["kitty"]["after"]
    assert held == report.summary["hub_rlc"]["after"]
