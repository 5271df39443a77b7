"""js-ipfs (npm ``ipfs`` 0.66, an independent JavaScript implementation of the Kubo RPC API) as
the daemon peer of the storage conformance suite: offline, on a repo of its own, on free
127.0.0.1 ports, stopped at the end (and gone with its parent if the test run is killed).

    with JsIpfs(tmp_path / "repo") as peer:
        KuboClient(peer.api_url).add_bytes(b"hello")

js-ipfs is archived upstream; it runs here on Node 20 with fixes kept in the repo:
- scripts/jsipfs-preload.cjs, loaded with ``node --require``: ``Promise.withResolvers``, which
  the newer it-queue that npm resolves for js-ipfs calls and Node 20 lacks;
- package.json's override ``"@multiformats/multiaddr@^11": "12.5.1"``: js-ipfs 0.66 (libp2p
  0.42) asks for multiaddr 11 where the patch releases npm now resolves for its transports
  (@libp2p/tcp 6.2, websockets 5.0) are built on 12, and with both copies loaded the daemon
  finds "no valid addresses" to listen on; one copy (12.5.1, whose API has every call 0.66 makes)
  fixes it. The override is global, keyed on the ^11 range that only js-ipfs's packages ask for:
  one scoped under "ipfs" reaches nodes that js-ipfs shares with the iexec SDK, and npm ci then
  refuses the lock file;
- package.json's overrides of wrtc and electron-webrtc by tests/storage/npm-stub: js-ipfs's
  optional WebRTC transports (an install script, Electron 1.8, a GitHub tarball), which the
  daemon tries to import and goes on without.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = ROOT / "scripts" / "jsipfs-preload.cjs"
CLI = ROOT / "node_modules" / "ipfs" / "src" / "cli.js"  # the package's `jsipfs` bin

#: would ask ``--dist loadgroup`` to run every test that talks to js-ipfs in one test process.
#: pytest-xdist 3.8 does not group under pytest 9.2 (it renames item._nodeid, which pytest 9.2 no
#: longer reads), so make test uses ``--dist loadfile``: each file's tests share one process, and
#: at most one daemon starts per file that needs it. The mark takes effect if loadgroup is used.
ONE_PROCESS = pytest.mark.xdist_group("js-ipfs")

#: the repo's config at init, over js-ipfs's "test" profile: every listener on 127.0.0.1 and a
#: port the system picks (no race between test processes), no peer to dial, no discovery
INIT_CONFIG = {
    "Addresses": {
        "Swarm": ["/ip4/127.0.0.1/tcp/0"],
        "API": "/ip4/127.0.0.1/tcp/0",
        "Gateway": "/ip4/127.0.0.1/tcp/0",
        "RPC": "/ip4/127.0.0.1/tcp/0",
        "Announce": [],
        "NoAnnounce": [],
        "Delegates": [],
    },
    "Bootstrap": [],
    "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
}


def missing() -> str | None:
    """Why js-ipfs cannot run here (a sentence saying what to install), or None."""
    if shutil.which("node") is None:
        return "node is missing: the js-ipfs daemon leg needs Node.js 20 (apt-get install nodejs)"
    if not CLI.is_file():
        return (
            "node_modules/ipfs (js-ipfs) is missing: run `make node` (npm ci --ignore-scripts) "
            "to install it, or name a Kubo daemon with IEXEC_KIT_IPFS_API=http://127.0.0.1:5001"
        )
    return None


class JsIpfsError(RuntimeError):
    """The js-ipfs daemon did not start; the message carries the end of its log."""


class JsIpfs:
    """One js-ipfs daemon over ``repo`` (created at start): ``api_url`` once started."""

    def __init__(self, repo: Path, *, start_timeout: float = 180.0):
        self.repo = Path(repo)
        self.start_timeout = start_timeout
        self.log = self.repo.parent / f"{self.repo.name}.log"
        self.api_url: str | None = None
        self.started_in: float | None = None  # seconds from spawn to an answering API
        self._proc: subprocess.Popen | None = None

    def start(self) -> JsIpfs:
        import requests

        node = shutil.which("node")
        config = self.repo.parent / f"{self.repo.name}.init-config.json"
        config.write_text(json.dumps(INIT_CONFIG))
        env = {
            **os.environ,
            "IPFS_PATH": str(self.repo),
            "IEXEC_KIT_EXIT_WITH_PARENT": "1",  # scripts/jsipfs-preload.cjs's watchdog
        }
        argv = [
            *(node, "--require", str(PRELOAD), str(CLI), "daemon", "--offline"),
            *("--init-profile", "test", "--init-config", str(config), "--enable-preload=false"),
        ]
        began = time.monotonic()
        with open(self.log, "wb") as log:
            self._proc = subprocess.Popen(
                argv,
                env=env,
                cwd=self.repo.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends all of it
            )
        api_file = self.repo / "api"  # Kubo's convention, which js-ipfs follows
        try:
            while True:
                if self._proc.poll() is not None:
                    raise JsIpfsError(f"js-ipfs exited with code {self._proc.returncode}")
                if time.monotonic() - began > self.start_timeout:
                    raise JsIpfsError(f"js-ipfs did not answer within {self.start_timeout:g} s")
                if api_file.is_file() and (url := _url(api_file.read_text())):
                    try:
                        requests.post(f"{url}/api/v0/version", timeout=5).raise_for_status()
                    except requests.RequestException:
                        pass
                    else:
                        self.api_url, self.started_in = url, time.monotonic() - began
                        return self
                time.sleep(0.1)
        except BaseException as exc:
            self.stop()
            if isinstance(exc, JsIpfsError):
                raise JsIpfsError(f"{exc}; its log ({self.log}) ends:\n{self.tail()}") from None
            raise

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM to the daemon's process group (js-ipfs stops cleanly on it), SIGKILL after
        15 s; idempotent."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> JsIpfs:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _url(multiaddr: str) -> str | None:
    """http://127.0.0.1:PORT from the api file's /ip4/127.0.0.1/tcp/PORT/http (None if partial)."""
    parts = multiaddr.strip().split("/")
    if len(parts) >= 5 and parts[1] == "ip4" and parts[3] == "tcp" and parts[4].isdigit():
        return f"http://{parts[2]}:{parts[4]}"
    return None


def is_js_ipfs(client) -> bool:
    """Whether a KuboClient talks to js-ipfs: its /api/v0/version names ipfs-core, Kubo's
    does not (Kubo answers Version, Commit, Repo, System, Golang)."""
    return "ipfs-core" in client.version()
