"""A Hardhat dev node for the kit: a real JSON-RPC Ethereum node on 127.0.0.1, offline.

>>> with HardhatNode() as node:                  # ephemeral port, stopped on exit
...     sb = Sandbox.start(chain_url=node.url)

The node runs ``node_modules/.bin/hardhat node`` (Hardhat 2.x, pinned in package.json; ``npm ci``
installs it) in a temporary folder holding a minimal ``hardhat.config.js``: hardfork cancun (the
fork the kit's contracts are compiled for), chain id 31337, and the dev accounts of the kit's own
mnemonic ("test ... junk"), so every participant starts with 10,000 ETH. It compiles nothing,
sends no telemetry (CI=true, HARDHAT_DISABLE_TELEMETRY_PROMPT=true) and needs no network.

The process stops on ``__exit__`` (its whole process group), at interpreter exit, and by itself
when this Python process goes away: it watches its stdin, a pipe from us, and exits on EOF.

From a terminal: ``python -m iexec_kit.chain.devnode --port 8545`` (Ctrl-C stops it).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from iexec_kit.chain.accounts import DEFAULT_MNEMONIC
from iexec_kit.errors import ChainConnectionError, DependencyMissingError

REPO_ROOT = Path(__file__).resolve().parents[2]
HARDFORK = "cancun"
CHAIN_ID = 31337
DEFAULT_ACCOUNTS = 20
STARTUP_TIMEOUT = 60.0
_INSTALL_HINT = (
    "install Node.js 20 and run `npm ci --ignore-scripts` at the repository root (or `make node`)"
)

# Loaded by Hardhat: the network, plus a watchdog that ends the node when our pipe closes.
_CONFIG = """\
// written by iexec_kit.chain.devnode: a throw-away Hardhat network for the kit
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();

module.exports = {{
  networks: {{
    hardhat: {{
      hardfork: {hardfork},
      chainId: {chain_id},
      accounts: {{ mnemonic: {mnemonic}, path: "m/44'/60'/0'/0", count: {accounts} }},
      loggingEnabled: {logging},
    }},
  }},
}};
"""


def find_hardhat(hardhat: str | os.PathLike[str] | None = None) -> Path:
    """The ``hardhat`` launcher: ``hardhat`` if given, else node_modules/.bin/hardhat of the
    repository (or of the current folder). Raises DependencyMissingError when absent."""
    if shutil.which("node") is None:
        raise DependencyMissingError(
            "Node.js is needed to run a Hardhat node, and `node` is not on PATH",
            expected="node 20 or later",
            got="no `node` command",
            hint=_INSTALL_HINT,
        )
    candidates = (
        [Path(hardhat)]
        if hardhat is not None
        else [
            REPO_ROOT / "node_modules" / ".bin" / "hardhat",
            Path.cwd() / "node_modules" / ".bin" / "hardhat",
        ]
    )
    for c in candidates:
        if c.is_file():
            return c
    raise DependencyMissingError(
        "Hardhat is not installed",
        expected="node_modules/.bin/hardhat (Hardhat 2.x)",
        got=", ".join(str(c) for c in candidates) + ": missing",
        hint=_INSTALL_HINT,
    )


def _node_modules_of(hardhat: Path) -> Path:
    """The node_modules folder that holds the ``hardhat`` package the launcher runs."""
    if hardhat.parent.name == ".bin":
        return hardhat.parent.parent.resolve()
    for parent in hardhat.resolve().parents:
        if parent.name == "node_modules":
            return parent
    raise DependencyMissingError(
        "cannot tell which node_modules holds this Hardhat",
        got=str(hardhat),
        hint="pass node_modules/.bin/hardhat of a local install",
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port the OS considers free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class HardhatNode:
    """A Hardhat 2.x node on 127.0.0.1 (cancun, chain id 31337, the kit's mnemonic).

    ``port=None`` takes a free ephemeral port. ``url`` is the JSON-RPC URL once started.
    ``startup_timeout`` bounds the wait for ``eth_chainId`` to answer (the first start of a fresh
    install takes a few seconds). The node's output goes to ``log_path`` (in its temporary folder).
    ``log_requests``: Hardhat also writes every JSON-RPC request there (each call decoded, for
    debugging); off by default, since it doubles the node's CPU per request (measured: an
    ``eth_call`` 1.9 -> 1.0 ms, a transaction about 20 -> 12 ms).
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        port: int | None = None,
        hardhat: str | os.PathLike[str] | None = None,
        mnemonic: str = DEFAULT_MNEMONIC,
        accounts: int = DEFAULT_ACCOUNTS,
        hardfork: str = HARDFORK,
        chain_id: int = CHAIN_ID,
        startup_timeout: float = STARTUP_TIMEOUT,
        log_requests: bool = False,
    ):
        self.port = port
        self.log_requests = log_requests
        self._hardhat = hardhat
        self.mnemonic, self.accounts, self.hardfork, self.chain_id = (
            mnemonic,
            accounts,
            hardfork,
            chain_id,
        )
        self.startup_timeout = startup_timeout
        self.folder: Path | None = None
        self.proc: subprocess.Popen | None = None
        self._log = None

    # ----- life cycle ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self.proc is None or self.port is None:
            raise ChainConnectionError(
                "the Hardhat node is not running", hint="call start() or use `with HardhatNode()`"
            )
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path | None:
        return None if self.folder is None else self.folder / "hardhat-node.log"

    def start(self) -> HardhatNode:
        if self.proc is not None:
            return self
        hardhat = find_hardhat(self._hardhat)
        # Hardhat refuses to run unless it resolves from the config's folder ("HH12"): link the
        # node_modules that holds it into the temporary project.
        modules = _node_modules_of(hardhat)
        self.folder = Path(tempfile.mkdtemp(prefix="iexec-kit-hardhat-"))
        (self.folder / "node_modules").symlink_to(modules, target_is_directory=True)
        (self.folder / "package.json").write_text(
            '{"name": "iexec-kit-devnode", "private": true}\n'
        )
        (self.folder / "hardhat.config.js").write_text(
            _CONFIG.format(
                hardfork=json.dumps(self.hardfork),
                chain_id=int(self.chain_id),
                mnemonic=json.dumps(self.mnemonic),
                accounts=int(self.accounts),
                logging=json.dumps(bool(self.log_requests)),
            )
        )
        fixed_port = self.port is not None
        try:
            for attempt in range(3):  # an ephemeral port can be taken between probe and bind
                if not fixed_port:
                    self.port = free_port(self.host)
                self._spawn(hardhat)
                try:
                    self._wait_ready()
                    break
                except _EarlyExit as exc:
                    self._kill()
                    if fixed_port or attempt == 2 or "EADDRINUSE" not in exc.output:
                        raise ChainConnectionError(
                            "the Hardhat node exited while starting",
                            expected=f"a node listening on {self.host}:{self.port}",
                            got=exc.output[-1500:] or f"exit code {exc.code}",
                            hint=_INSTALL_HINT
                            if "Cannot find module" in exc.output
                            else "read the node's output above; free the port or pick another one",
                        ) from None
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self

    def _spawn(self, hardhat: Path) -> None:
        env = {
            **os.environ,
            "CI": "true",
            "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true",
            "HARDHAT_HIDE_SOLIDITY_SURVEY_MESSAGE": "true",
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
        }
        if self._log is not None:
            self._log.close()
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                str(hardhat),
                "node",
                "--hostname",
                self.host,
                "--port",
                str(self.port),
                "--config",
                str(self.folder / "hardhat.config.js"),
            ],
            cwd=self.folder,
            env=env,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # own process group: stop() ends it and any children

    def _output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        ).encode()
        last = "no answer yet"
        while True:
            code = self.proc.poll()
            if code is not None:
                raise _EarlyExit(code, self._output())
            try:
                req = urllib.request.Request(
                    f"http://{self.host}:{self.port}",
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(req, timeout=2) as resp:
                    answer = json.loads(resp.read())
                if int(answer["result"], 16) == self.chain_id:
                    return
                last = f"chain id {answer['result']}"
            except (OSError, ValueError, KeyError, urllib.error.URLError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                output = self._output()
                self._kill()
                raise ChainConnectionError(
                    "the Hardhat node did not answer eth_chainId within "
                    f"{self.startup_timeout:.0f} s",
                    expected=f"chain id {self.chain_id} at http://{self.host}:{self.port}",
                    got=last,
                    hint="a first start on a slow machine can take longer: raise startup_timeout; "
                    f"the node's output ends with: {output[-500:]!r}",
                )
            time.sleep(0.1)

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:
            try:  # the leader is gone; end what it left in its group
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        proc.wait()

    def stop(self) -> None:
        """Stop the node (and its process group) and remove its temporary folder. Idempotent."""
        self._kill()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        atexit.unregister(self.stop)

    def __enter__(self) -> HardhatNode:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"at http://{self.host}:{self.port}" if self.proc is not None else "stopped"
        return f"<HardhatNode {self.hardfork} chain {self.chain_id} {state}>"


class _EarlyExit(Exception):
    def __init__(self, code: int, output: str):
        super().__init__(code)
        self.code, self.output = code, output


def main(argv: list[str] | None = None) -> int:
    """``python -m iexec_kit.chain.devnode [--port 8545]``: run a node until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m iexec_kit.chain.devnode",
        description="Run a Hardhat dev node for iexec-kit on 127.0.0.1.",
    )
    parser.add_argument(
        "--port", type=int, default=8545, help="TCP port (0: a free one); default 8545"
    )
    args = parser.parse_args(argv)

    def _terminate(signum, frame):  # SIGTERM/SIGHUP: leave as Ctrl-C does, through __exit__
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    with HardhatNode(port=args.port or None) as node:
        print(
            f"Hardhat node (cancun, chain id {node.chain_id}) at {node.url}\n"
            f"  iexec-kit info --chain {node.url}\n  Ctrl-C stops it.",
            flush=True,
        )
        try:
            while node.proc is not None and node.proc.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
