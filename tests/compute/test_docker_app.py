"""The gimp-cartoon image on a real (private) Docker engine: same bytes as the process runner.

Uses scripts/docker-engine.sh and scripts/docker-build-app.sh (see conftest.py); skips with the
engine's reason only where no engine can start.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from iexec_kit.compute import DockerRunner, ProcessRunner

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "apps" / "gimp-cartoon"
SAMPLES = [REPO / "data" / n for n in ("chelsea.png", "coffee.jpg", "rocket.jpg")]


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def docker_runner(docker_host, app_image):
    return DockerRunner(docker_host)


def test_image_id_is_the_checksum(docker_runner, app_image):
    assert docker_runner.image_id(APP) == app_image and app_image.startswith("sha256:")


@pytest.mark.parametrize("style", ["gimpfu", "cartoon"])
def test_numpy_engine_same_bytes_in_docker_and_process(docker_runner, style):
    args = f"--style {style} --engine numpy"
    d = docker_runner.run(APP, SAMPLES, args, timeout=300)
    p = ProcessRunner().run(APP, SAMPLES, args, timeout=300)
    assert d.computed == {"deterministic-output-path": "/iexec_out/images"}
    assert _files(d.deterministic_path) == _files(p.deterministic_path)
    assert d.digest() == p.digest()


@pytest.mark.parametrize("style", ["gimpfu", "cartoon"])
def test_gimp_engine_in_docker_is_deterministic(docker_runner, style):
    args = f"--style {style} --engine gimp"
    a = docker_runner.run(APP, SAMPLES[:1], args, timeout=300)
    b = docker_runner.run(APP, SAMPLES[:1], args, timeout=300)
    assert "engine gimp" in a.logs
    assert a.digest() == b.digest()
    if shutil.which("gimp"):  # the same Debian GIMP on the host: the same bytes
        p = ProcessRunner().run(APP, SAMPLES[:1], args, timeout=300)
        assert p.digest() == a.digest()


def test_default_args_use_gimp_inside_the_image(docker_runner):
    r = docker_runner.run(APP, SAMPLES[:1], "--style gimpfu", timeout=300)
    assert "style gimpfu, engine gimp" in r.logs


def test_bad_input_in_docker_ends_in_error_message(docker_runner, tmp_path):
    bad = tmp_path / "truncated.png"
    bad.write_bytes(SAMPLES[0].read_bytes()[:20000])
    r = docker_runner.run(APP, [bad], "--engine numpy", timeout=300, check=False)
    assert not r.ok and r.exit_code == 1 and "truncated" in r.error_message


def test_the_app_has_no_network(docker_runner, tmp_path):
    container = docker_runner.client.containers.run(
        "iexec-kit/gimp-cartoon:1.0.0",
        entrypoint=["python3", "-c", "import socket; print(len(socket.if_nameindex()))"],
        network_mode="none",
        remove=True,
    )
    assert container.strip() == b"1"  # only the loopback interface
