"""The Sandbox and the `iexec-kit` command line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iexec_kit.errors import KitValueError
from iexec_kit.sandbox import STARTING_RLC, AppManifest, source_tree_sha256

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "iexec_kit.cli.__main__"]


def test_sandbox_funds_each_role(sandbox):
    views = {a.name: a for a in sandbox.accounts()}
    assert views["requester"].wallet_rlc == STARTING_RLC["requester"]
    assert all(views[w.name].wallet_rlc == STARTING_RLC["worker"] for w in sandbox.workers)
    assert all(a.stake == 0 and a.locked == 0 for a in views.values())
    assert len(sandbox.workers) == 5


def test_info_has_the_documented_keys(sandbox):
    info = sandbox.info()
    assert {"chain_id", "contracts", "app", "workerpool", "accounts"} <= set(info)
    assert info["contracts"]["hub"] == sandbox.deployment.hub
    assert info["app"]["owner"] == sandbox.app_developer.address
    json.dumps(info)  # plain data


def test_source_tree_checksum_follows_the_content(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    first = source_tree_sha256(tmp_path)
    assert first == source_tree_sha256(tmp_path)
    (tmp_path / "a.txt").write_text("two")
    assert source_tree_sha256(tmp_path) != first


def test_manifest_errors_are_clear(tmp_path):
    with pytest.raises(KitValueError, match="no app folder"):
        AppManifest.read(tmp_path / "missing")
    (tmp_path / "iexec.json").write_text("{not json")
    with pytest.raises(KitValueError, match="not valid JSON"):
        AppManifest.read(tmp_path)


def test_cli_info_json():
    out = subprocess.run(
        CLI + ["info", "--json", "--workers", "2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert {"chain_id", "contracts", "app", "workerpool", "accounts"} <= set(info)
    assert [a["name"] for a in info["accounts"]][-2:] == ["worker1", "worker2"]
    assert info["app"]["name"] == "gimp-cartoon" and info["app"]["type"] == "DOCKER"


def test_cli_info_table_and_bad_chain_url():
    out = subprocess.run(CLI + ["info"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "gimp-cartoon" in out.stdout and "requester" in out.stdout
    bad = subprocess.run(
        CLI + ["info", "--chain", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert bad.returncode == 1
    assert "no Ethereum node answers" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_demo_runs():
    out = subprocess.run(
        CLI + ["demo", "--workers", "2", "--engine", "numpy"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "requester deposits 100 RLC" in out.stdout
    assert "RLC held by the hub" in out.stdout
    assert "demo OK: every task COMPLETED; downloaded digests = consensus" in out.stdout
