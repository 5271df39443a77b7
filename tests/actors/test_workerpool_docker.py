"""The same demo with the Docker runner: the app's image in containers on the kit's private
engine. Runs only when that engine is already up with the image built (scripts/docker-engine.sh
start; scripts/docker-build-app.sh; tests/compute starts them for its own session); skipped
otherwise, with the reason. Without an engine, the demo stops before anything is signed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from iexec_kit.actors.demo import DemoConfig, run_demo
from iexec_kit.actors.events import EventStream
from iexec_kit.compute.errors import DockerUnavailableError
from workerpool_checks import money_conserved

REPO = Path(__file__).resolve().parents[2]


def test_no_docker_engine_is_said_before_any_deposit(small_png, monkeypatch):
    from iexec_kit.sandbox import Sandbox

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with Sandbox.start(workers=3) as sb:
        with pytest.raises(DockerUnavailableError, match="no Docker engine answers"):
            run_demo(DemoConfig(engine="numpy", input=str(small_png), runner="docker"), sandbox=sb)
        assert sb.hub.hub_rlc() == 0  # nothing deposited, nothing signed


def test_demo_with_the_docker_runner(small_png):
    status = subprocess.run(["bash", str(REPO / "scripts" / "docker-engine.sh"), "status"], capture_output=True,
                            text=True)
    if status.returncode != 0:
        pytest.skip("the kit's private Docker engine is not running (scripts/docker-engine.sh start)")
    from iexec_kit.compute import get_runner
    from iexec_kit.errors import IexecKitError

    try:
        get_runner("docker").image_id(REPO / "apps" / "gimp-cartoon")
    except IexecKitError as exc:
        pytest.skip(str(exc).splitlines()[0])
    report = run_demo(DemoConfig(engine="numpy", input=str(small_png), runner="docker"), stream=EventStream())
    assert report.ok and money_conserved(report.summary)
