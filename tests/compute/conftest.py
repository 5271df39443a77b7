"""Fixtures for the compute tests: the toy app, and a private Docker engine for the Docker runner.

The engine comes from scripts/docker-engine.sh; when it cannot start here the Docker tests skip
with its reason (printed); the engine is stopped at the end if these tests started it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOYAPP = Path(__file__).resolve().parent / "toyapp"
ENGINE = REPO / "scripts" / "docker-engine.sh"
BUILD = REPO / "scripts" / "docker-build-app.sh"


@pytest.fixture(scope="session")
def toyapp() -> Path:
    return TOYAPP


@pytest.fixture(scope="session")
def docker_host():
    """DOCKER_HOST of the kit's private engine, started for the session when not running."""
    was_running = subprocess.run(["bash", str(ENGINE), "status"]).returncode == 0
    p = subprocess.run(["bash", str(ENGINE), "start"], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        reason = f"no Docker engine can start here: {p.stderr.strip()[-600:]}"
        print(f"\nSKIP docker tests: {reason}", file=sys.stderr)
        pytest.skip(reason)
    host = p.stdout.strip().splitlines()[-1].split("=", 1)[1]
    yield host
    if not was_running:
        subprocess.run(["bash", str(ENGINE), "stop"], timeout=120)


@pytest.fixture(scope="session")
def app_image(docker_host):
    """Build (or reuse) the gimp-cartoon image and the base image; return the app image id."""
    p = subprocess.run(["bash", str(BUILD), sys.executable], capture_output=True, text=True,
                       timeout=1200)
    assert p.returncode == 0, f"docker-build-app.sh failed:\n{p.stderr[-3000:]}"
    print(f"\n{p.stderr.strip()}", file=sys.stderr)
    return p.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def toy_image(docker_host, app_image):
    """The toy app's image, FROM the offline base image."""
    import docker

    client = docker.DockerClient(base_url=docker_host)
    import json

    tag = json.loads((TOYAPP / "iexec.json").read_text())["image"]
    client.images.build(path=str(TOYAPP), tag=tag, rm=True, forcerm=True)
    return tag


@pytest.fixture(params=["process", "docker"])
def runner(request):
    """Each conformance test runs once per runner (process, then Docker)."""
    from iexec_kit.compute import DockerRunner, ProcessRunner

    if request.param == "process":
        return ProcessRunner(poll_interval=0.05)
    host = request.getfixturevalue("docker_host")
    request.getfixturevalue("toy_image")
    return DockerRunner(host, poll_interval=0.1)


@pytest.fixture(autouse=True)
def _runner_temp_in_tmp_path(tmp_path, monkeypatch):
    """Runs without out_dir keep their results in a temporary folder: put it under tmp_path."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
