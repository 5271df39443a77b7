"""The LAN commands as a facilitator and the attendees type them, each a real process.

One ``iexec-kit node --listen 127.0.0.1 --workerpool external`` runs for the module (LAN mode
bound to the loopback address, as every test here must be), then ``iexec-kit scheduler --node
<folder> --listen 127.0.0.1`` on it, then ``iexec-kit worker`` typed from the banner's lines (the
``--token`` form and the joined-URL form) with the wallets the banner hands out: a deal bought on
the node's chain completes through the fronts. A wrong or missing token is refused, and a
scheduler asked to open a node that was not opened is refused, each with a clear message.

The Ctrl-C test starts a node of its own (the smallest LAN one: one wallet, no workerpool) and
stops it with SIGINT, checking that nothing is left; no test here depends on another's order."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest
import requests
from workshop_helpers import free_port, need_hardhat, wait_for

from iexec_kit.cli.node import EXTERNAL_SCHEDULER_PORT
from iexec_kit.node import LAN_FILE, NODE_FILE, WALLET_FILE
from iexec_kit.protocol.statuses import TaskStatus
from iexec_kit.sandbox import REPO_ROOT
from iexec_kit.storage.lan import join_token, split_token
from iexec_kit.storage.lan_policy import LAN_USES

# one node for the module (make test runs --dist loadfile: a file's tests share a process)
pytestmark = pytest.mark.xdist_group("workshop_cli")

WORKERS = 2  # wallets the node creates: all for attendees (--workerpool external)
START_TIMEOUT = 180  # s: Hardhat, the protocol's deployment and the services, on a loaded machine
#: the attendees test's workers: name -> the wallet the banner hands out that each one types
ATTENDEES = {"alice": "worker1", "bob": "worker2"}


def _default_sigint():
    # an xdist worker ignores SIGINT and a child inherits an ignored signal (Python then installs
    # no Ctrl-C handler): give the child the terminal's default back
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Cli:
    """``python -m iexec_kit.cli ARGS`` as a process; its output (stdout and stderr, merged)
    read by a thread into ``lines`` so the pipe never fills."""

    def __init__(self, *args: str):
        self.args = args
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "iexec_kit.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1"),
            cwd=REPO_ROOT,
            preexec_fn=_default_sigint,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def wait_line(self, pattern: str, timeout: float) -> str:
        """The first output line matching ``pattern`` (a regex), once it came."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            if self.proc.poll() is not None:
                self._reader.join(5)
                break
            time.sleep(0.1)
        for line in self.lines:  # the reader may have caught up after the exit
            if re.search(pattern, line):
                return line
        raise AssertionError(
            f"no line matching {pattern!r} from `iexec-kit {' '.join(self.args[:1])}` "
            f"(exit code {self.proc.poll()}):\n{self.text[-4000:]}"
        )

    def exit_code(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._reader.join(5)


class RunningNode:
    """A node process, with what it wrote and printed."""

    def __init__(self, cli: Cli, folder):
        self.cli, self.folder = cli, folder
        self.info = json.loads((folder / NODE_FILE).read_text())
        self.lan = json.loads((folder / LAN_FILE).read_text())

    def running(self) -> RunningNode:
        assert self.cli.proc.poll() is None, (
            f"the node exited (code {self.cli.proc.poll()}):\n{self.cli.text[-3000:]}"
        )
        return self

    def banner(self) -> list[str]:
        """The lines from the WARNING to the ready block."""
        lines = self.cli.lines
        first = next(i for i, line in enumerate(lines) if line.startswith("WARNING: "))
        last = next(i for i, line in enumerate(lines) if "iexec-kit node is ready" in line)
        return lines[first:last]

    def key(self, name: str) -> str:
        return self._wallet(name)["privateKey"]

    def address(self, name: str) -> str:
        return self._wallet(name)["address"].lower()

    def _wallet(self, name: str) -> dict:
        return json.loads((self.folder / name / WALLET_FILE).read_text())


def _start_node(folder, workers: int) -> RunningNode:
    """``iexec-kit node --listen 127.0.0.1 --workerpool external`` on any free ports, once its
    ready block is printed (stopped with SIGINT, then SIGTERM, if it does not come)."""
    cli = Cli(
        "node",
        "--folder",
        str(folder),
        "--port",
        "0",
        "--workers",
        str(workers),
        "--listen",
        "127.0.0.1",
        "--workerpool",
        "external",
    )
    try:
        cli.wait_line(r"^  npx iexec app run ", START_TIMEOUT)  # the ready block's last line
        return RunningNode(cli, folder)
    except BaseException:
        _stop_node(cli)
        raise


def _stop_node(cli: Cli) -> None:
    """Ctrl-C (SIGINT) to a node still running, then SIGTERM/SIGKILL if it does not exit."""
    if cli.proc.poll() is None:
        cli.proc.send_signal(signal.SIGINT)
        try:
            cli.proc.wait(60)
        except subprocess.TimeoutExpired:
            pass
    cli.stop()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    need_hardhat()
    running = _start_node(tmp_path_factory.mktemp("cli-lan-node"), WORKERS)
    try:
        yield running
    finally:
        _stop_node(running.cli)


@pytest.fixture(scope="module")
def scheduler(node):
    """``iexec-kit scheduler --node <folder> --listen 127.0.0.1`` on the node, its front on a
    free port: (Cli, the front's URL)."""
    port = free_port()
    cli = Cli(
        "scheduler",
        "--node",
        str(node.running().folder),
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        "--ping-timeout",
        "5",
    )
    try:
        cli.wait_line(r"^scheduler of workerpool 0x[0-9a-fA-F]{40} ready at ", 60)
        yield cli, f"http://127.0.0.1:{port}"
    finally:
        cli.stop()


def _command(line: str, **swap: str) -> list[str]:
    """A banner's command line as argv for ``python -m iexec_kit.cli``: the optional
    ``[...]`` part dropped, each placeholder in ``swap`` replaced."""
    line = re.sub(r"\s*\[[^\]]*\]", "", line.strip().removeprefix("or: "))
    for old, new in swap.items():
        line = line.replace(old, new)
    argv = shlex.split(line)
    assert argv[0] == "iexec-kit", line
    return argv[1:]


def _line(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.strip().startswith(start)]
    assert found, f"no line starting {start!r} in:\n" + "\n".join(lines)
    return found[0]


# ----- the facilitator: iexec-kit node --listen --------------------------------------------------
def test_the_banner_names_every_url_the_token_and_the_attendees_lines(node):
    lines, lan, folder = node.running().banner(), node.lan, node.folder
    token = lan["token"]
    assert lines[0].startswith(
        "WARNING: this node is OPEN TO THE NETWORK on 127.0.0.1 (LAN address 127.0.0.1): "
        "anyone on this network can reach the URLs below"
    ), lines[0]
    # every front it opened, each followed by what a LAN user can do there; no other URL
    urls = set(lan["urls"].values())
    before_token = lines[: lines.index(_line(lines, "The workshop's token"))]
    assert set(re.findall(r"http://127\.0\.0\.1:\d+", "\n".join(before_token))) == urls
    assert {"chain", "ipfs", "result_proxy", "market", "sms"} <= set(lan["urls"])
    for key, url in lan["urls"].items():
        at = next(i for i, line in enumerate(lines) if line.rstrip().endswith(url))
        assert lines[at + 1].strip() == LAN_USES[key].what, key
    assert _line(lines, "The workshop's token").endswith(f"{folder / LAN_FILE}): {token}")
    # the scheduler is the facilitator's to start (external): its command, then the attendees'
    scheduler_cmd = _line(lines, "iexec-kit scheduler ")
    assert _command(scheduler_cmd) == [
        "scheduler",
        "--node",
        str(folder),
        "--listen",
        "127.0.0.1",
        "--port",
        str(EXTERNAL_SCHEDULER_PORT),
    ]
    proposed = f"http://127.0.0.1:{EXTERNAL_SCHEDULER_PORT}"
    worker = _command(_line(lines, "iexec-kit worker "), **{"<0x key>": "KEY"})
    assert worker == ["worker", "--scheduler", proposed, "--token", token, "--key", "KEY"]
    joined = _command(_line(lines, "or: iexec-kit worker "))
    assert joined == ["worker", "--scheduler", f"{proposed}/t/{token}", "--key", "..."]
    for n in range(1, WORKERS + 1):  # every wallet handed out: no local worker uses one
        assert _line(lines, f"worker{n}: ") == f"  worker{n}: --key {node.key(f'worker{n}')}"
    assert "never send real funds" in lines[-1].lower() and "Ctrl-C" in lines[-1]
    # and the ready block says who runs the scheduler
    ready = node.cli.lines[node.cli.lines.index(_line(node.cli.lines, "iexec-kit node is ready")) :]
    assert f"yours to run: iexec-kit scheduler --node {folder}" in _line(ready, "scheduler API")


def test_lan_json_is_the_facilitators_alone_and_holds_the_same_token(node):
    where = node.running().folder / LAN_FILE
    assert stat.S_IMODE(where.stat().st_mode) == 0o600
    lan = node.lan
    assert lan["token"] and lan["token"] in _line(node.banner(), "The workshop's token")
    assert lan["listen"] == "127.0.0.1" and lan["advertise"] == "127.0.0.1"
    for key, url in lan["urls"].items():
        assert lan["joined"][key] == join_token(url, lan["token"])
    assert node.info["lan"]["urls"] == lan["urls"] and "token" not in node.info["lan"]
    assert lan["token"] not in (node.folder / NODE_FILE).read_text()  # node.json is 0644
    # the fronts answer, and a write through one needs the token
    res = requests.post(lan["urls"]["ipfs"] + "/api/v0/add", files={"file": b"x"}, timeout=10)
    assert res.status_code == 401 and "workshop's token" in res.json()["message"]


# ----- the facilitator: iexec-kit scheduler --listen ---------------------------------------------
def test_the_scheduler_opens_its_front_with_the_nodes_token(node, scheduler):
    cli, front = scheduler
    token = node.running().lan["token"]
    warning = cli.wait_line(r"^WARNING: the scheduler's API is OPEN TO THE NETWORK", 5)
    assert f"at {front}: {LAN_USES['scheduler'].what}." in warning  # the one list's words
    assert f"iexec-kit worker --scheduler {front} --token {token} --key <0x key>" in warning
    assert f"--scheduler {join_token(front, token)}" in warning
    # behind the front, the service itself stays on loopback, on another port
    local = cli.wait_line(r" ready at http://127\.0\.0\.1:\d+$", 5).rsplit(" ", 1)[1]
    assert local != front
    res = requests.get(front + "/pool", timeout=10)
    assert res.status_code == 401 and "workshop's token" in res.json()["message"]
    # an external workerpool has no worker of its own: on the board, none but the attendees
    # test's (which may run before this test or after it)
    board = requests.get(join_token(front, token) + "/pool", timeout=10).json()["workers"]
    theirs = {(name, node.address(wallet)) for name, wallet in ATTENDEES.items()}
    others = [w for w in board if (w["name"], w["address"].lower()) not in theirs]
    assert not others, f"workers on the board that no test here signed in: {others}"
    # the workers are given the node's LAN fronts, the token joined (lan.json's)
    config = requests.get(join_token(front, token) + "/workers/config", timeout=10).json()
    urls = node.lan["urls"]
    assert split_token(config["blockchainNodeUrl"]) == (urls["chain"], token)
    assert split_token(config["resultRepositoryURL"]) == (urls["result_proxy"], token)
    assert split_token(config["smsURL"]) == (urls["sms"], token)
    assert split_token(config["ipfsGatewayURL"])[0] in (urls["ipfs"], urls.get("ipfs_gateway"))


def test_the_scheduler_refuses_to_open_a_node_that_is_not_open(node, tmp_path):
    # a node started without --listen writes node.json and no lan.json: its node.json stands
    # for it here (a second node would double the module's time)
    closed = tmp_path / "closed-node"
    closed.mkdir()
    info = dict(node.running().info, lan=None)
    (closed / NODE_FILE).write_text(json.dumps(info))
    empty = tmp_path / "no-node"
    empty.mkdir()
    port = str(free_port())
    runs = {
        "closed": Cli("scheduler", "--node", str(closed), "--listen", "127.0.0.1", "--port", port),
        "empty": Cli("scheduler", "--node", str(empty), "--listen", "127.0.0.1", "--port", port),
    }
    try:
        codes = {k: c.exit_code(60) for k, c in runs.items()}
    finally:
        for c in runs.values():
            c.stop()
    assert codes == {"closed": 1, "empty": 1}, {k: c.text for k, c in runs.items()}
    said = runs["closed"].text
    assert "error: a node opened to the LAN, to open its scheduler there too" in said
    assert f"expected: {closed / LAN_FILE} (written by iexec-kit node --listen ADDRESS)" in said
    assert "what to do: restart the node with --listen ADDRESS --workerpool external" in said
    said = runs["empty"].text
    assert "error: the folder of a running node, to serve its workerpool" in said
    assert f"got: no {NODE_FILE} in {empty}" in said
    assert "Traceback" not in runs["closed"].text + said


# ----- the attendees: iexec-kit worker, typed from the banner ------------------------------------
def _buy(node, volume: int, trust: int = 1):
    """The requester buys ``volume`` tasks of the demo app (NumPy engine) on the node's chain:
    its order book (the node folder's SQLite file, shared) and the node's local services."""
    from iexec_kit.actors.requester import buy_execution
    from iexec_kit.chain.deploy import Deployment
    from iexec_kit.chain.node import Chain
    from iexec_kit.market.book import OrderBook
    from iexec_kit.poco.hub import Hub
    from iexec_kit.poco.orders import RequestParams
    from iexec_kit.storage.proxy import ResultProxyClient
    from iexec_kit.storage.sms import RESULT_IPFS_TOKEN, SmsClient

    info = node.info
    urls = info["urls"]
    chain = Chain.connect(urls["chain"], workers=0)
    hub = Hub(chain, Deployment(**info["deployment"]))
    requester = chain.participant("requester")
    # what `iexec storage init` does: the result proxy's token, kept in the SMS for the workers
    token = ResultProxyClient(urls["result_proxy"], chain_id=info["chain_id"]).login(requester.key)
    SmsClient(urls["sms"]).push_web2_secret(
        requester.key, RESULT_IPFS_TOKEN, token, force_update=True
    )
    hub.deposit(requester, volume * 3 * 10**9)
    match = buy_execution(
        hub,
        OrderBook(hub, node.folder / "state"),
        requester,
        info["app"],
        params=RequestParams(args="--engine numpy", input_files=(info["sample_input"],)),
        workerpool=info["workerpool"],
        volume=volume,
        trust=trust,
    )
    return hub, match.deal


def _tasks(hub, deal) -> list:
    out = []
    for i in range(deal.bot_size):
        try:
            out.append(hub.task(deal.task_id(i)))
        except Exception:  # noqa: BLE001 - not initialized yet
            out.append(None)
    return out


def test_attendees_typing_the_banners_lines_complete_a_deal(node, scheduler, tmp_path):
    cli, front = scheduler
    lines, token = node.running().banner(), node.lan["token"]
    # the banner proposes EXTERNAL_SCHEDULER_PORT; the test's scheduler took a free one
    port = {f":{EXTERNAL_SCHEDULER_PORT}": ":" + front.rsplit(":", 1)[1]}
    key = {name: node.key(wallet) for name, wallet in ATTENDEES.items()}
    typed = {
        "alice": _command(_line(lines, "iexec-kit worker "), **port, **{"<0x key>": key["alice"]}),
        "bob": _command(_line(lines, "or: iexec-kit worker "), **port, **{"...": key["bob"]}),
    }
    assert typed["alice"][:4] == ["worker", "--scheduler", front, "--token"]
    assert typed["bob"][:3] == ["worker", "--scheduler", join_token(front, token)]
    workers = {
        name: Cli(*argv, "--name", name, "--folder", str(tmp_path / name))
        for name, argv in typed.items()
    }
    try:
        for name, w in workers.items():
            w.wait_line(rf"^{name} \(0x[0-9a-fA-F]{{40}}, honest\) signed in to ", 90)
        board = join_token(front, token) + "/pool"
        wait_for(
            lambda: len(requests.get(board, timeout=10).json()["workers"]) == 2,
            30,
            "both workers on the scheduler's board",
        )
        hub, deal = _buy(node, volume=2)

        def done():
            tasks = _tasks(hub, deal)
            return all(t is not None and t.status == TaskStatus.COMPLETED for t in tasks) and tasks

        try:
            tasks = wait_for(done, 120, "the deal's 2 tasks COMPLETED")
        except AssertionError as exc:
            said = "\n".join(f"--- {n}\n{w.text[-2000:]}" for n, w in workers.items())
            raise AssertionError(f"{exc}\n--- scheduler\n{cli.text[-2000:]}\n{said}") from None
        addresses = {node.address(wallet) for wallet in ATTENDEES.values()}
        for t in tasks:  # the attendees' wallets did the work: nobody else serves this pool
            assert t.contributors and {c.lower() for c in t.contributors} <= addresses
        for w in workers.values():  # the token never shows in a worker's output
            assert token not in w.text and f"signed in to {front}/t/<token>" in w.text
        for w in workers.values():
            w.proc.send_signal(signal.SIGTERM)
        assert {n: w.exit_code(30) for n, w in workers.items()} == {"alice": 0, "bob": 0}
    finally:
        for w in workers.values():
            w.stop()


def test_a_wrong_or_missing_token_is_refused_with_what_to_do(node, scheduler, tmp_path):
    _, front = scheduler
    key = node.running().key("worker1")
    common = ("--key", key, "--folder", str(tmp_path))
    runs = {
        "wrong": Cli("worker", "--scheduler", front, "--token", "not-the-token", *common),
        "missing": Cli("worker", "--scheduler", front, *common),
    }
    try:
        codes = {k: c.exit_code(60) for k, c in runs.items()}
    finally:
        for c in runs.values():
            c.stop()
    assert codes == {"wrong": 3, "missing": 3}, {k: c.text for k, c in runs.items()}
    wrong = runs["wrong"].wait_line("refused by the LAN front at ", 1)
    assert f"refused by the LAN front at {front}/t/<token>: the workshop's token is wrong" in wrong
    assert "ask the facilitator for the joined URL" in wrong and "not-the-token" not in wrong
    missing = runs["missing"].wait_line("refused by the LAN front at ", 1)
    assert f"at {front}: GET /workers/config needs the workshop's token" in missing
    assert "--token <token>" in missing


# ----- Ctrl-C: a node of its own ----------------------------------------------------------------
def _start_time(pid: int) -> str | None:
    """A process's start time (/proc/<pid>/stat), None when it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_ctrl_c_stops_the_node_and_everything_it_started(tmp_path):
    """The smallest LAN node (one wallet, the workerpool external: no scheduler, no worker),
    not the module's: the other tests keep theirs running whatever the order."""
    from lan_helpers import listening

    from iexec_kit.ui.voila_server import _children as descendants

    need_hardhat()
    node = _start_node(tmp_path / "node", workers=1)
    try:
        proc = node.cli.proc
        children = {pid: _start_time(pid) for pid in descendants(proc.pid)}
        ports = {port for _, port in listening(proc.pid)}
        hardhat = int(node.info["urls"]["chain"].rsplit(":", 1)[1])
        fronts = {int(url.rsplit(":", 1)[1]) for url in node.lan["urls"].values()}
        assert any("hardhat" in _cmdline(pid) for pid in children), (
            "the node runs Hardhat as its child",
            {pid: _cmdline(pid) for pid in children},
        )
        assert hardhat in ports and fronts <= ports, (hardhat, fronts, ports)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        code = node.cli.exit_code(60)
    finally:
        _stop_node(node.cli)
    said = node.cli.text
    assert code == 0, said[-3000:]
    assert said.rstrip().endswith("Node stopped."), said[-1000:]
    assert "Traceback" not in said and "error:" not in said
    left = [pid for pid, started in children.items() if started and _start_time(pid) == started]
    assert not left, f"processes left after Ctrl-C: {[(pid, _cmdline(pid)) for pid in left]}"
    busy = [port for port in sorted(ports) if not _refused(port)]
    assert not busy, f"ports still answering after Ctrl-C: {busy} (Hardhat's: {hardhat})"
