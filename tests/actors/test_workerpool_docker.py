"""The demo with the Docker runner, where no engine answers: it stops before anything is signed."""

from __future__ import annotations

import pytest

from iexec_kit.compute.errors import DockerUnavailableError
from iexec_kit.tutorial.demo import DemoConfig, run_demo


def test_no_docker_engine_is_said_before_any_deposit(small_png, monkeypatch):
    from iexec_kit.sandbox import Sandbox

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with Sandbox.start(workers=3) as sb:
        with pytest.raises(DockerUnavailableError, match="no Docker engine answers"):
            run_demo(DemoConfig(engine="numpy", input=str(small_png), runner="docker"), sandbox=sb)
        assert sb.hub.hub_rlc() == 0  # nothing deposited, nothing signed


# The demo on a running engine: tests/compute/test_demo_on_docker.py (the compute fixtures start the
# engine and build the image).
