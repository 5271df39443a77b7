"""iExec's own CLI (npm ``iexec``, pinned in package.json) against ``iexec-kit node``.

Each command runs as a learner would type it, from a participant's folder that the node wrote
(chain.json + wallet.json), with ``--raw`` so its JSON answer can be checked. No
``--skip-preflight-check`` anywhere."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from iexec_kit.errors import DependencyMissingError

REPO_ROOT = Path(__file__).resolve().parents[2]
IEXEC = REPO_ROOT / "node_modules" / ".bin" / "iexec"


class IexecCli:
    """Runs ``iexec ... --raw`` in a participant's folder; returns the parsed JSON answer."""

    def __init__(self, node):
        self.node = node

    def folder(self, who: str) -> Path:
        return self.node.folder / who

    def run(self, *args, who: str = "requester", ok: bool = True, timeout: float = 180):
        cmd = [str(IEXEC), *map(str, args), "--raw"]
        proc = subprocess.run(
            cmd,
            cwd=self.folder(who),
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "NO_UPDATE_NOTIFIER": "1", "CI": "true"},
        )
        try:
            # the answer is the last line: on stdout when ok, on stderr when not
            answer = json.loads((proc.stdout.strip() or proc.stderr.strip()).splitlines()[-1])
        except (ValueError, IndexError):
            raise AssertionError(
                f"`iexec {' '.join(map(str, args))}` printed no JSON answer\n"
                f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
            ) from None
        if ok:
            assert answer.get("ok") is True, f"`iexec {' '.join(map(str, args))}`: {answer}"
        else:
            assert answer.get("ok") is False, f"`iexec {' '.join(map(str, args))}`: {answer}"
        return answer


def _node(tmp_path_factory, protocol: str):
    from iexec_kit.chain.devnode import find_hardhat
    from iexec_kit.node import Node, NodeConfig

    if not IEXEC.exists():
        pytest.skip("iExec's CLI is absent (node_modules/.bin/iexec): run `npm ci`")
    try:
        find_hardhat()
    except DependencyMissingError as exc:
        pytest.skip(f"{str(exc).splitlines()[0]}: run `npm ci`")
    folder = tmp_path_factory.mktemp(f"sdk-node-{protocol}")
    return Node(folder, config=NodeConfig(workers=3, protocol=protocol)).start()


@pytest.fixture(scope="session")
def kit_node(tmp_path_factory):
    """A node on the kit's own contracts."""
    with _node(tmp_path_factory, "kit") as n:
        yield n


@pytest.fixture(scope="module")
def poco_node(tmp_path_factory):
    """A node on iExec's published PoCo 6.1.0 (the bytecode of npm @iexec/poco)."""
    with _node(tmp_path_factory, "poco") as n:
        yield n


@pytest.fixture(scope="session")
def iexec(kit_node):
    return IexecCli(kit_node)


@pytest.fixture(scope="module")
def iexec_on_poco(poco_node):
    return IexecCli(poco_node)
