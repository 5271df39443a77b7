"""iExec's SDK from an attendee's laptop, through the LAN fronts of ``iexec-kit node --listen``.

One node for the module, LAN mode bound to 127.0.0.1 (as every test must be): 3 worker wallets,
one worker process (worker1), so worker2 and worker3 are spare wallets, each with its attendee
folder ``lan/<wallet>/``. The folder is copied elsewhere (the attendee's laptop) and iExec's CLI
runs there as a learner types it, ``npx iexec ...`` (the repository's pinned iexec 8.24.0, found
through a node_modules link beside the copy, npm offline): deposit, storage init, app run
--watch to COMPLETED, every call to the fronts only. What the SDK does with a URL's path is the
reason for the token module: it keeps the chain host's (/t/<token> reaches the chain's front) and
drops it for the result proxy, the SMS, the market API and the gateway, so without the module the
result proxy's login is refused; a chain.json whose host lacks the token is refused on the first
transaction, with the filter's sentence."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from workshop_helpers import logs, need_hardhat

from iexec_kit.node import (
    ATTENDEES_FOLDER,
    TOKEN_MODULE,
    Node,
    NodeConfig,
    lan_token_module,
)
from iexec_kit.protocol.statuses import TaskStatus
from iexec_kit.protocol.units import RLC
from iexec_kit.sandbox import REPO_ROOT
from iexec_kit.storage.lan import TOKEN_HEADER
from iexec_kit.storage.sms import RESULT_IPFS_TOKEN

IEXEC = REPO_ROOT / "node_modules" / ".bin" / "iexec"
SDK_URL_KEYS = ("host", "resultProxy", "ipfsGateway", "iexecGateway", "sms")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    need_hardhat()
    if not IEXEC.exists() or shutil.which("npx") is None:
        pytest.skip("iExec's CLI or npx is absent (node_modules/.bin/iexec): run `npm ci`")
    folder = tmp_path_factory.mktemp("sdk-lan-node")
    n = Node(
        folder,
        port=None,
        config=NodeConfig(
            workers=3,
            workerpool="processes",
            behaviours=("honest",),
            listen="127.0.0.1",
            ping_timeout=5,
        ),
    ).start()
    try:
        yield n
    finally:
        n.stop()


def laptop_copy(node, name: str, where: Path) -> Path:
    """The attendee folder copied to "another laptop", where `npx iexec` finds the pinned CLI
    (a node_modules link beside the copy, as `npm i iexec` there would give)."""
    where.mkdir(parents=True, exist_ok=True)
    if not (where / "node_modules").exists():
        (where / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    copy = where / name
    shutil.copytree(node.folder / ATTENDEES_FOLDER / name, copy)
    return copy


def npx_iexec(folder: Path, *args, token_module: bool = True, ok: bool = True, timeout=240):
    """`npx iexec ... --raw` in ``folder``, with NODE_OPTIONS as the attendee exports it (or
    without); returns the CLI's JSON answer."""
    env = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    env.update(NO_UPDATE_NOTIFIER="1", CI="true", npm_config_offline="true")
    env["npm_config_update_notifier"] = "false"
    if token_module:
        env["NODE_OPTIONS"] = f"--import={folder / TOKEN_MODULE}"
    proc = subprocess.run(
        ["npx", "iexec", *map(str, args), "--raw"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    answer = None
    for line in reversed((proc.stdout + "\n" + proc.stderr).splitlines()):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and "ok" in parsed:
            answer = parsed
            break
    what = f"`npx iexec {' '.join(map(str, args))}`"
    assert answer is not None, (
        f"{what} printed no JSON answer\nstdout: {proc.stdout[-2000:]}\n"
        f"stderr: {proc.stderr[-2000:]}"
    )
    assert answer["ok"] is ok, f"{what}: {answer}"
    return answer


def front_origins(node) -> set[str]:
    return {s.front.url for s in node.lan.services.values()}


def origin(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def test_each_spare_wallet_has_an_attendee_folder_with_the_fronts_urls(node):
    from iexec_kit.cli.node import lan_banner

    spare = [w.name for w in node.spare_workers()]
    assert spare == ["worker2", "worker3"]  # worker1 is the node's own worker process
    root = node.folder / ATTENDEES_FOLDER
    assert sorted(p.name for p in root.iterdir()) == spare
    lan = node.lan
    for name in spare:
        folder = root / name
        conf = json.loads((folder / "chain.json").read_text())["chains"]["kit"]
        assert conf["host"] == lan.joined("chain")  # the one URL whose path the SDK keeps
        assert conf["hub"] == node.info.hub and conf["id"] == str(node.info.chain_id)
        for key in SDK_URL_KEYS:  # every URL is a front's: the loopback services stay unknown
            assert origin(conf[key]) in front_origins(node), (key, conf[key])
            assert conf[key] not in node.info.urls.values(), (key, conf[key])
        wallet = json.loads((folder / "wallet.json").read_text())
        assert wallet["address"] == node.sb.chain.participant(name).address
        module = (folder / TOKEN_MODULE).read_text()
        assert json.dumps(lan.token) in module and TOKEN_HEADER in module
        for f in ("chain.json", "wallet.json", TOKEN_MODULE):  # the token or the key: 0600
            assert (folder / f).stat().st_mode & 0o077 == 0, f
        assert folder.stat().st_mode & 0o077 == 0
    recorded = json.loads((node.folder / "lan.json").read_text())["attendees"]
    assert recorded == {n: str(root / n) for n in spare}
    text = "\n".join(t for t, _ in lan_banner(node))
    assert f"{root}/<name>/" in text
    assert f'export NODE_OPTIONS="--import=$PWD/{TOKEN_MODULE}"' in text
    assert "npx iexec account deposit 10 RLC" in text


def test_an_attendee_buys_and_runs_the_demo_app_with_the_sdk_through_the_fronts(node, tmp_path):
    sb, lan = node.sb, node.lan
    refused_before = {k: len(s.front.refused) for k, s in lan.services.items()}
    folder = laptop_copy(node, "worker2", tmp_path / "laptop")
    who = sb.chain.participant("worker2").address
    stake = sb.hub.account(who).stake
    npx_iexec(folder, "account", "deposit", "10", "RLC")
    assert sb.hub.account(who).stake == stake + 10 * RLC
    npx_iexec(folder, "storage", "init", "--force-update")  # result proxy login, SMS push
    assert node.sms.has_web2_secret(who, RESULT_IPFS_TOKEN)
    run = npx_iexec(folder, *node.info.app_run_args("--engine numpy", force=True), timeout=300)
    taskid, dealid = run["tasks"][0]["taskid"], run["deals"][0]["dealid"]
    assert sb.hub.deal(dealid).requester == who
    assert sb.hub.task(taskid).status == TaskStatus.COMPLETED, logs(node)
    refused = {
        k: s.front.refused[refused_before[k] :]
        for k, s in lan.services.items()
        if s.front.refused[refused_before[k] :]
    }
    assert not refused, f"the fronts refused some of the SDK's calls: {refused}"


def test_without_the_token_the_sdk_is_refused_and_says_why(node, tmp_path):
    sb, lan = node.sb, node.lan
    who = sb.chain.participant("worker3").address
    stake = sb.hub.account(who).stake
    # a chain.json whose host lacks the token: the first transaction is refused by the filter
    tokenless = laptop_copy(node, "worker3", tmp_path / "laptop")
    conf_file = tokenless / "chain.json"
    conf = json.loads(conf_file.read_text())
    conf["chains"]["kit"]["host"] = lan.url("chain")
    conf_file.write_text(json.dumps(conf))
    answer = npx_iexec(tokenless, "account", "deposit", "1", "RLC", token_module=False, ok=False)
    assert "eth_sendRawTransaction needs the workshop's token" in json.dumps(answer), answer
    assert sb.hub.account(who).stake == stake
    # the folder as written, without the token module: the SDK drops the result proxy URL's
    # path, so nothing carries the token there and its login (a POST) is refused
    proxy = lan.services["result_proxy"].front
    before = len(proxy.refused)
    folder = laptop_copy(node, "worker3", tmp_path / "laptop2")
    answer = npx_iexec(folder, "storage", "init", "--force-update", token_module=False, ok=False)
    assert "401" in answer["error"]["message"], answer
    assert any("/results/login" in line for line in proxy.refused[before:]), proxy.refused
    assert not node.sms.has_web2_secret(who, RESULT_IPFS_TOKEN)


class _Recorder(BaseHTTPRequestHandler):
    """Answers 204 and notes the token header each GET came with (in ``seen``: give each test a
    subclass with a list of its own, as :func:`_recorder` does)."""

    seen: list

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).seen.append(self.headers.get(TOKEN_HEADER))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def _recorder() -> type[_Recorder]:
    """A handler class with an empty ``seen`` of its own (a rerun starts afresh)."""
    return type("_Recorder", (_Recorder,), {"seen": []})


def test_the_token_module_sends_the_token_to_the_fronts_only(tmp_path):
    """The module's rule alone, in Node: the header goes to the listed origins, not elsewhere."""
    node_bin = shutil.which("node")
    if node_bin is None:
        pytest.skip("Node.js is absent: the token module cannot be run")
    recorder = _recorder()
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), recorder) for _ in range(2)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    try:
        front, other = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
        module = tmp_path / TOKEN_MODULE
        module.write_text(lan_token_module("t0ken", [front]))
        script = (
            f"await fetch('{front}/results/login');"
            f"await fetch(new URL('/x', '{other}'));"
            f"await fetch(new Request('{front}/secrets/web2'));"
        )
        proc = subprocess.run(
            [node_bin, f"--import={module}", "--input-type=module", "-e", script],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
    assert recorder.seen == ["t0ken", None, "t0ken"]
