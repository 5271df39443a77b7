"""Shared fixtures of the storage tests: the independent CID implementations, a node, and the
daemon peer of the conformance suite (a named Kubo, else js-ipfs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORACLE_JS = Path(__file__).with_name("cid_oracle.js")


def _need_ipfs_cid() -> str:
    exe = shutil.which("ipfs_cid")
    if exe is None:
        pytest.skip(
            "Debian's ipfs_cid is missing (apt-get install ipfs-cid; `make test` "
            "installs it through scripts/ensure-apt.sh)"
        )
    return exe


def _need_js() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is missing: the npm ipfs-only-hash check needs Node.js")
    if not (ROOT / "node_modules" / "ipfs-only-hash").is_dir():
        pytest.skip("node_modules/ipfs-only-hash is missing (run `make node` / npm ci)")
    return node


@pytest.fixture(scope="session")
def ipfs_cid():
    """`ipfs_cid(path) -> {"CIDv0": ..., "CIDv1": ...}` from Debian's /usr/bin/ipfs_cid."""
    exe = _need_ipfs_cid()

    def run(path) -> dict:
        out = subprocess.run([exe, str(path)], capture_output=True, check=True, timeout=60)
        return json.loads(out.stdout)

    return run


@pytest.fixture(scope="session")
def js_cids():
    """`js_cids(entries, options) -> {path: cid}` from npm's ipfs-unixfs-importer (the engine of
    ipfs-only-hash). entries: [{"path": "d/a", "file": "/abs"}, {"path": "d/empty"}]."""
    node = _need_js()

    def run(entries: list[dict], options: dict | None = None) -> dict:
        spec = json.dumps({"entries": entries, "options": options or {}})
        out = subprocess.run(
            [node, str(ORACLE_JS)], input=spec.encode(), capture_output=True, cwd=ROOT, timeout=120
        )
        assert out.returncode == 0, out.stderr.decode()
        return json.loads(out.stdout)

    return run


@pytest.fixture(scope="session")
def js_hash_of():
    """`js_hash_of(path, cid_version) -> cid` through ipfs-only-hash's own Hash.of."""
    node = _need_js()

    def run(path, cid_version: int = 0) -> str:
        opts = "{cidVersion: 1, rawLeaves: true}" if cid_version == 1 else "{}"
        script = (
            f"require('ipfs-only-hash').of(require('fs').readFileSync({json.dumps(str(path))}),"
            f" {opts}).then(c => process.stdout.write(c))"
        )
        out = subprocess.run([node, "-e", script], capture_output=True, cwd=ROOT, timeout=120)
        assert out.returncode == 0, out.stderr.decode()
        return out.stdout.decode()

    return run


@pytest.fixture
def node(tmp_path):
    from iexec_kit.storage.node import IpfsNode

    return IpfsNode(tmp_path / "repo")


@pytest.fixture(scope="session")
def kubo_api(tmp_path_factory):
    """The URL of the Kubo RPC API the suite's daemon leg talks to: the daemon that
    $IEXEC_KIT_IPFS_API names, else js-ipfs (npm ipfs 0.66) started here, offline on a tmp
    repo, for the whole session (per test process), and stopped at its end. Its tests carry
    jsipfs_daemon.ONE_PROCESS (one test process for them all, when xdist groups)."""
    from iexec_kit.storage.kubo import ENV_API

    named = os.environ.get(ENV_API)
    if named:
        yield named
        return
    from jsipfs_daemon import JsIpfs, missing

    reason = missing()
    if reason:
        pytest.skip(reason)
    with JsIpfs(tmp_path_factory.mktemp("jsipfs") / "repo") as peer:
        print(f"\njs-ipfs answered at {peer.api_url} {peer.started_in:.1f} s after its start")
        yield peer.api_url
