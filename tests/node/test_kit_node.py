"""``iexec-kit node``: the persistent network, started for real (a Hardhat devnode, the kit's
IPFS, result proxy and workerpool) in a temporary folder, then stopped.

Skipped where node_modules/.bin/hardhat is absent (`npm ci` installs it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from iexec_kit.errors import DependencyMissingError, KitValueError
from iexec_kit.node import CHAIN_NAME, Node, NodeConfig, sdk_wallet
from iexec_kit.protocol.statuses import TaskStatus


def _need_hardhat():
    from iexec_kit.chain.devnode import find_hardhat

    try:
        find_hardhat()
    except DependencyMissingError as exc:
        pytest.skip(f"{str(exc).splitlines()[0]}: run `npm ci`")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    _need_hardhat()
    folder = tmp_path_factory.mktemp("node")
    with Node(folder, config=NodeConfig(workers=3)).start() as n:
        yield n


def test_node_writes_what_the_sdk_reads(node):
    info = node.info
    conf = json.loads((node.folder / "chain.json").read_text())
    assert conf["default"] == CHAIN_NAME
    chain = conf["chains"][CHAIN_NAME]
    assert chain["id"] == str(node.sb.chain.chain_id) and chain["hub"] == node.sb.hub.address
    assert chain["host"] == info.urls["chain"] and chain["host"].startswith("http://127.0.0.1:")
    for key in ("resultProxy", "ipfsGateway"):
        assert chain[key].startswith("http://127.0.0.1:")
    recorded = json.loads((node.folder / "node.json").read_text())
    assert recorded["hub"] == info.hub and recorded["app"] == node.sb.app_address
    for p in node.sb.participants:
        wallet_file = node.folder / p.name / "wallet.json"
        wallet = json.loads(wallet_file.read_text())
        assert wallet["address"] == p.address  # the key in the file is that participant's
        assert oct(wallet_file.stat().st_mode & 0o777) == "0o600"
        assert json.loads((node.folder / p.name / "chain.json").read_text()) == conf
    # the "try it" lines: the last one, split as a shell would, is the SDK's app run
    import shlex

    last = shlex.split(info.try_it().splitlines()[-1])
    assert last[:2] == ["npx", "iexec"] and last[2:] == info.app_run_args()
    assert last[last.index("--args") + 1] == "--style gimpfu" and "--force" not in last


def test_sdk_wallet_matches_eth_account():
    from eth_account import Account

    key = bytes(range(1, 33))
    w = sdk_wallet(key)
    assert w["address"] == Account.from_key(key).address
    assert w["publicKey"].startswith("0x04") and len(w["publicKey"]) == 2 + 2 + 128


def test_node_serves_a_deal_bought_by_anyone(node):
    """A deal bought while the node runs is computed, contributed, revealed, uploaded and
    finalized by the node's workerpool in real time, with no call from the buyer."""
    from iexec_kit.actors.requester import buy_execution
    from iexec_kit.poco.orders import RequestParams

    sb = node.sb
    sb.storage.storage_init(sb.requester.key)  # what `iexec storage init` does
    sb.hub.deposit(sb.requester, 10 * 10**9)
    before = sb.hub.account(sb.app_developer.address).stake
    match = buy_execution(
        sb.hub,
        sb.book,
        sb.requester,
        sb.app_address,
        params=RequestParams(args="--engine numpy", input_files=(node.info.sample_input,)),
        workerpool=sb.workerpool_address,
    )
    taskid = match.deal.task_id(0)
    task = node.wait_completed(taskid)
    assert task.status == TaskStatus.COMPLETED and task.taskid == taskid
    results = json.loads(bytes(sb.hub.task(taskid).results).decode())
    assert results["storage"] == "ipfs" and results["location"].startswith("/ipfs/")
    assert sb.hub.account(sb.app_developer.address).stake > before  # the app was paid


def test_restart_on_the_same_folder_says_it_starts_afresh(tmp_path):
    _need_hardhat()
    lines = []
    with Node(tmp_path, config=NodeConfig(workers=1), log=lines.append).start() as first:
        first_hub = first.info.hub
    assert first.info.previous is None
    mine = tmp_path / "notes.txt"  # a file of the user's, next to the node's
    mine.write_text("keep me")
    (tmp_path / "requester" / "cartoon.zip").write_bytes(b"a result the learner downloaded")
    (tmp_path / "requester" / "deployed.json").write_text("{}")  # names the old chain's app
    with Node(tmp_path, config=NodeConfig(workers=1), log=lines.append).start() as second:
        assert mine.read_text() == "keep me"
        assert (tmp_path / "requester" / "cartoon.zip").exists()
        assert not (tmp_path / "requester" / "deployed.json").exists()
        assert "starting afresh" in second.info.previous and first_hub in second.info.previous
        assert json.loads((tmp_path / "node.json").read_text())["previous"] == second.info.previous
    assert any("starting afresh" in line for line in lines)


def test_bad_config_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(KitValueError, match="at least one worker"):
        Node(tmp_path, config=NodeConfig(workers=0))
    with pytest.raises(KitValueError, match="process or docker"):
        Node(tmp_path, config=NodeConfig(runner="vm"))
    assert not (tmp_path / "node.json").exists()


def test_cli_node_prints_json_and_stops_on_sigterm(tmp_path):
    _need_hardhat()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "iexec_kit.cli",
            "node",
            "--folder",
            str(tmp_path),
            "--port",
            "0",
            "--workers",
            "1",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()  # the JSON line, once ready
        info = json.loads(line)
        assert info["urls"]["chain"].startswith("http://127.0.0.1:")
        assert (tmp_path / "requester" / "wallet.json").exists()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Node stopped." in err


def test_wait_completed_says_why_it_gave_up(node):
    from iexec_kit.node import TaskTimeoutError

    with pytest.raises(TaskTimeoutError, match="not COMPLETED after 1 s") as err:
        node.wait_completed("0x" + "ab" * 32, timeout=1)
    assert "not initialized" in str(err.value)


def test_a_secret_file_gets_its_mode_even_over_a_leftover_temporary(tmp_path):
    """A crashed write leaves wallet.json.tmp behind with another mode: the next write of the
    secret still ends 0600 (O_CREAT's mode is for a new file only)."""
    import stat

    from iexec_kit.node import _write

    target = tmp_path / "wallet.json"
    leftover = tmp_path / "wallet.json.tmp"
    leftover.write_text("half")
    leftover.chmod(0o644)
    _write(target, '{"secret": 1}\n', 0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == '{"secret": 1}\n' and not leftover.exists()
