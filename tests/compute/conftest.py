"""Fixtures for the compute tests: the toy app, and a private Docker engine for the Docker runner.

The engine comes from scripts/docker-engine.sh; when it cannot start here the Docker tests skip
with its reason (printed). Several pytest sessions may share the engine (a file lock counts them):
the last one stops it, if a test session started it; builds are serialised by the build script.
"""

from __future__ import annotations

import contextlib
import json
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


@contextlib.contextmanager
def _engine_state():
    """The shared record of test sessions using the private engine, under a file lock
    (several pytest sessions may run at once on this checkout)."""
    import fcntl

    state_dir = REPO / ".sandbox" / "docker"
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "test-users.json"
    with open(state_dir / "test-users.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(path.read_text()) if path.exists() else {}
        state = {"users": state.get("users", 0), "started": state.get("started", False)}
        yield state
        path.write_text(json.dumps(state))


def _engine(cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ENGINE), cmd], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def docker_host():
    """DOCKER_HOST of the kit's private engine, started for the session when not running;
    the last test session using it stops it, if a test session started it."""
    with _engine_state() as state:
        if _engine("status").returncode != 0:  # stopped: any count left is stale
            state.update(users=0, started=False)
            p = _engine("start")
            if p.returncode != 0:
                reason = f"no Docker engine can start here: {p.stderr.strip()[-600:]}"
                print(f"\nSKIP docker tests: {reason}", file=sys.stderr)
                pytest.skip(reason)
            state["started"] = True
        state["users"] += 1
    yield _engine("host").stdout.strip()
    with _engine_state() as state:
        state["users"] = max(0, state["users"] - 1)
        if state["users"] == 0 and state["started"]:
            _engine("stop")
            state["started"] = False


_BUILD_FAILURE: list[str] = []


@pytest.fixture(scope="session")
def app_image(docker_host):
    """Build (or reuse) the gimp-cartoon image and the base image; return the app image id.

    A failed build fails every test that needs the image, without building again each time."""
    if _BUILD_FAILURE:
        pytest.fail(_BUILD_FAILURE[0])
    p = subprocess.run(
        ["bash", str(BUILD), sys.executable], capture_output=True, text=True, timeout=1200
    )
    if p.returncode != 0:
        _BUILD_FAILURE.append(f"docker-build-app.sh failed:\n{p.stderr[-3000:]}")
        pytest.fail(_BUILD_FAILURE[0])
    print(f"\n{p.stderr.strip()}", file=sys.stderr)
    return p.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def toy_image(docker_host, app_image):
    """The toy app's image, FROM the offline base image."""
    import docker

    client = docker.DockerClient(base_url=docker_host)
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
