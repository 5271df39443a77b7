"""``iexec-kit node``: a persistent local iExec network that iExec's own CLI can use.

>>> with Node(".sandbox/node").start() as node:   # a Hardhat devnode, unless chain_url is given
...     print(node.info.urls)                      # chain, IPFS API and gateway, result proxy, ...
...     node.wait()                                # until Ctrl-C / SIGTERM (or node.stop())

What runs, all on 127.0.0.1 (each on a port of its own, printed and written down), unless
``NodeConfig(listen=ADDRESS)`` (``--listen``) opens them to a LAN for a workshop: then each
service also gets a front on ADDRESS (:mod:`iexec_kit.storage.lan`; what each lets a LAN user do:
:data:`~iexec_kit.storage.lan_policy.LAN_USES`), the services themselves staying on 127.0.0.1, and
the token is written to ``lan.json`` (mode 0600); each wallet no local worker uses gets
``lan/<wallet>/``, the SDK folder an attendee copies to their laptop (chain.json with the fronts'
URLs, the wallet, and the module that sends the token where the SDK drops a URL's path):

- a Hardhat dev node (``iexec_kit.chain.devnode``), or the JSON-RPC node at ``chain_url``;
- the kit's protocol deployed on it (the Sandbox: hub, RLC, registries, the demo app, a
  workerpool; every participant funded);
- IPFS (the kit's embedded node: Kubo RPC API + path gateway) and the result proxy;
- the market API (iExec's format, over the kit's order book) and the SMS (web2 secrets), when
  the kit has them;
- the workerpool: the kit's scheduler and its workers serving, in real time, every deal the
  chain shows, whoever bought it (:meth:`iexec_kit.actors.drive.Drive.serve`).

The node publishes the app developer's order for the demo app and the scheduler's workerpool
order, deposits the workers' and the scheduler's stakes, and puts a sample picture on IPFS.

For iExec's SDK it writes, in its folder: ``chain.json`` (the chain "kit" with every URL and the
hub's address), and one folder per participant (``requester/``, ``app_developer/``, ...) holding
that ``chain.json`` and the participant's ``wallet.json`` (the SDK's unencrypted wallet): so
``cd <folder>/requester && npx iexec account show`` works as it is. The keys are the kit's test
mnemonic's, public knowledge: never send real funds to them.

A Hardhat node keeps its state in memory: when the node stops, its chain is gone. Started again
on the same folder, the node says so and starts afresh (the files of the previous run are
rewritten). ``node.json`` records what the running node is.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from iexec_kit.chain.accounts import ROLE_TITLES
from iexec_kit.errors import IexecKitError, KitValueError
from iexec_kit.protocol.units import RLC
from iexec_kit.sandbox import REPO_ROOT, Sandbox

NODE_FILE = "node.json"
CHAIN_FILE = "chain.json"
LAN_FILE = "lan.json"  # with --listen: the workshop's token and the LAN URLs (mode 0600)
WALLET_FILE = "wallet.json"
#: with --listen: <folder>/lan/<wallet>/, the SDK folder an attendee copies to their laptop
ATTENDEES_FOLDER = "lan"
#: in an attendee's folder: the module that sends the token to the services whose URL path the
#: SDK drops (loaded with NODE_OPTIONS="--import=..."; see lan_token_module)
TOKEN_MODULE = "lan-token.mjs"
#: what a restart removes: the node's own folders, and the SDK's records of a chain that is gone
STATE_FOLDERS = ("state", "logs", ATTENDEES_FOLDER)
OLD_CHAIN_RECORDS = ("deployed.json", "orders.json")
IEXEC_FILE = "iexec.json"  # the SDK's project file: `iexec app init`, `order init` add to it
CHAIN_NAME = "kit"
SAMPLE_INPUT = REPO_ROOT / "data" / "chelsea.png"
DEFAULT_FOLDER = Path(".sandbox") / "node"
WORKERPOOL_MODES = ("drive", "processes", "external")


class TaskTimeoutError(IexecKitError, TimeoutError):
    """A task did not complete in the time given."""


@dataclass(frozen=True)
class NodeConfig:
    """What the node's sellers offer and stake (amounts in nRLC)."""

    workers: int = 3
    app_price: int = 1 * RLC
    workerpool_price: int = 1 * RLC
    volume: int = 1_000  # tasks each seller's order offers
    trust: int = 5  # the most a request may ask of this workerpool
    category: int = 0
    worker_deposit: int = 50 * RLC
    scheduler_deposit: int = 500 * RLC
    runner: str = "process"
    protocol: str = "kit"  # or "poco": iExec's published PoCo 6.1.0 (Sandbox.start)
    poll: float = 0.5  # seconds the workerpool waits when nothing moves
    # how the workerpool runs: "drive" (scheduler and workers in the node's process),
    # "processes" (the scheduler's API in the node, each worker a process the node starts and
    # stops), "external" (neither: run `iexec-kit scheduler` and `iexec-kit worker` yourself)
    workerpool: str = "drive"
    behaviours: tuple = ()  # one per worker process (default: honest)
    listen: str | None = None  # open the services to a LAN on this address (workshop)
    token_ttl: float = 3600  # seconds a worker's token lives
    ping_timeout: float = 10.0  # seconds without a ping before a worker process is gone
    scheduler_port: int = 0  # the scheduler's API port (0: any; with listen, its front's)
    slow_delay: float = 5.0  # seconds a "slow" worker process waits before contributing

    def check(self) -> None:
        if self.workers < 1:
            raise KitValueError(
                "the node's workerpool needs at least one worker",
                expected="--workers 1 or more",
                got=str(self.workers),
            )
        if self.workerpool not in WORKERPOOL_MODES:
            raise KitValueError(
                "unknown workerpool mode",
                expected=" or ".join(WORKERPOOL_MODES),
                got=repr(self.workerpool),
            )
        if self.runner not in ("process", "docker"):
            raise KitValueError(
                "unknown runner", expected="process or docker", got=repr(self.runner)
            )


@dataclass(frozen=True)
class NodeInfo:
    """What a running node is: its URLs, the protocol's addresses and the participants."""

    folder: str
    started: float
    chain_id: int
    urls: dict
    hub: str
    rlc: str
    app: str
    workerpool: str
    participants: dict  # name -> {role, address, folder}
    sample_input: str
    previous: str | None = None  # what became of the previous run in this folder
    deployment: dict = field(default_factory=dict)  # every address of the protocol
    workerpool_mode: str = "drive"
    lan: dict | None = None  # with --listen: {listen, advertise, urls} (the token: lan.json)

    def as_dict(self) -> dict:
        return asdict(self)

    def chain_json(self, urls: dict | None = None) -> dict:
        """The SDK's chain.json: one custom chain named "kit", the default; ``urls`` (the same
        keys as :attr:`urls`) for other URLs than the node's own, e.g. its LAN fronts'."""
        u = urls or self.urls
        conf = {
            "id": str(self.chain_id),
            "host": u["chain"],
            "hub": self.hub,
            "resultProxy": u["result_proxy"],
            "ipfsGateway": u["ipfs_gateway"],
            "native": False,
            "useGas": True,
        }
        if u.get("market"):
            conf["iexecGateway"] = u["market"]
        if u.get("sms"):
            conf["sms"] = u["sms"]  # one SMS for every kind of task (no TEE here)
        return {"default": CHAIN_NAME, "chains": {CHAIN_NAME: conf}}

    def app_run_args(self, app_args: str = "--style gimpfu", *, force: bool = False) -> list[str]:
        """``iexec app run``'s arguments that buy the demo app on this node's workerpool with
        the sample picture and watch the task; ``force`` skips the CLI's confirmation prompt
        (for scripts)."""
        args = ["app", "run", self.app, "--workerpool", self.workerpool]
        args += ["--input-files", self.sample_input, "--args", app_args, "--watch"]
        return [*args, "--force"] if force else args

    def try_it(self) -> str:
        """The three commands a newcomer types first."""
        folder = Path(self.participants["requester"]["folder"])
        here = Path.cwd()
        where = folder.relative_to(here) if folder.is_relative_to(here) else folder
        return f"cd {where}\n{self._first_sdk_commands()}"

    def attendee_try_it(self, name: str = "<name>") -> str:
        """What an attendee types on their own laptop, in the copy of ``lan/<name>/``: the
        token module loaded for this terminal, then the newcomer's commands."""
        return (
            f"cd {name}\n"
            f'export NODE_OPTIONS="--import=$PWD/{TOKEN_MODULE}"\n'
            f"{self._first_sdk_commands()}"
        )

    def _first_sdk_commands(self) -> str:
        return (
            "npx iexec account deposit 10 RLC && npx iexec storage init --force-update\n"
            f"npx iexec {shlex.join(self.app_run_args())}"
        )


class Node:
    """A local iExec network that keeps running (see the module docstring)."""

    def __init__(
        self,
        folder: str | os.PathLike[str] = DEFAULT_FOLDER,
        *,
        chain_url: str | None = None,
        port: int | None = None,
        config: NodeConfig | None = None,
        seed: int = 0,
        log=None,
    ):
        self.folder = Path(folder).resolve()
        self.chain_url = chain_url
        self.port = port
        self.config = config or NodeConfig()
        self.config.check()
        self.seed = seed
        self.log = log or (lambda line: None)
        self.devnode = None
        self.sb: Sandbox | None = None
        self.market = None
        self.sms = None
        self.info: NodeInfo | None = None
        self.errors: list[str] = []  # the workerpool's unexpected errors, newest last
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stream = None
        self.pool = None  # the PoolService, with workerpool "processes"
        self.lan = None  # the LanGate, with listen
        self.worker_procs: list = []  # the worker processes it started

    # ----- start and stop ----------------------------------------------------------------------
    def start(self) -> Node:
        """Start everything, publish the sellers' orders, write the SDK's files; returns self.
        On failure what was started is stopped again."""
        try:
            previous = self._clear_previous()
            self._start_chain()
            self._start_services()
            self._open_lan()
            sample = self._publish_sample()
            self._open_for_business()
            self._start_pool_service()
            self._open_lan_scheduler()
            self.info = self._describe(sample, previous)
            self._write_files()
            self._start_workerpool()
        except BaseException:
            self.stop()
            raise
        return self

    def _clear_previous(self) -> str | None:
        """A previous run's files describe a chain that is gone: say so, and start afresh."""
        record = self.folder / NODE_FILE
        if not record.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            return None
        try:
            old = json.loads(record.read_text())
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(old.get("started", 0)))
            what = f"hub {old.get('hub')} on {old.get('urls', {}).get('chain')}, started {when}"
        except (OSError, ValueError):
            what = "a node.json that cannot be read"
        message = (
            f"a previous node ran in {self.folder} ({what}); its chain kept its state in memory "
            "and is gone: starting afresh (its state, orders, chain.json and wallets are "
            "rewritten; your own files in the participants' folders stay, but the SDK's "
            "records of the old chain there, deployed.json and orders.json, are removed)"
        )
        self.log(message)
        for name in (NODE_FILE, CHAIN_FILE, LAN_FILE):
            (self.folder / name).unlink(missing_ok=True)
        for name in STATE_FOLDERS:
            if (self.folder / name).is_dir():
                shutil.rmtree(self.folder / name)
        for where in self.folder.iterdir():  # only the node's participant folders
            if where.is_dir() and (where / WALLET_FILE).exists():
                for name in OLD_CHAIN_RECORDS:
                    (where / name).unlink(missing_ok=True)
        return message

    def _start_chain(self) -> None:
        url = self.chain_url
        if url is None:
            from iexec_kit.chain.devnode import HardhatNode

            self.devnode = HardhatNode(port=self.port).start()
            url = self.devnode.url
        self.log(f"chain: {url}")
        self.sb = Sandbox.start(
            chain_url=url,
            folder=self.folder / "state",
            workers=self.config.workers,
            seed=self.seed,
            sms=True,
            protocol=self.config.protocol,
        )

    def _start_services(self) -> None:
        sb = self.sb
        from iexec_kit.market.api import MarketApi

        storage = sb.storage  # IPFS + gateway + result proxy, on 127.0.0.1
        self.market = MarketApi(sb.book, sb.hub, sb.chain.chain_id).start()
        self.sms = storage.sms  # started with the storage (Sandbox.start(sms=True))

    def _publish_sample(self) -> str:
        """The sample picture on IPFS, as a gateway URL the SDK accepts as an input file."""
        folder = self.folder / "state" / "inputs" / SAMPLE_INPUT.stem
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE_INPUT, folder / SAMPLE_INPUT.name)
        cid = self.sb.storage.ipfs.add_path(folder)
        gateway = self._lan_url("ipfs_gateway", self.sb.storage.gateway_url, joined=False)
        return f"{gateway.rstrip('/')}/ipfs/{cid}/{SAMPLE_INPUT.name}"

    def _open_lan(self) -> None:
        """With ``listen``: a front on the LAN address for each service (the scheduler's comes
        once it runs), the token on every write, the chain behind the JSON-RPC filter."""
        if not self.config.listen:
            return
        from iexec_kit.storage.lan import LanGate

        storage = self.sb.storage
        gate = self.lan = LanGate(self.config.listen)
        chain_url = self.devnode.url if self.devnode is not None else self.chain_url
        ipfs = storage.daemon.api_url if storage.daemon else storage.ipfs.base
        for key, upstream in (  # each one's title and rules: LAN_USES
            ("chain", chain_url),
            ("ipfs", ipfs),
            ("result_proxy", storage.proxy_url),
            ("market", self.market.url),
            ("sms", self.sms.url),
        ):
            gate.open(key, upstream)
        if storage.daemon and storage.daemon.gateway_server is not None:
            gate.open("ipfs_gateway", storage.gateway_url)

    def _lan_url(self, key: str, local: str | None, joined: bool = True) -> str | None:
        """A service's URL for the worker processes: its LAN front's (token joined) with
        listen, else the loopback one."""
        if self.lan is None:
            return local
        key = key if key in self.lan.services else "ipfs"
        return self.lan.joined(key) if joined else self.lan.url(key)

    def spare_workers(self) -> list:
        """The worker participants that no worker of the node's own uses: the wallets handed to
        attendees (all of them with workerpool "external"; with "processes", those beyond the
        ``behaviours`` given; none with "drive", whose workers are all in this process)."""
        if self.sb is None:
            return []
        if self.config.workerpool == "external":
            return list(self.sb.workers)
        if self.config.workerpool == "processes" and self.config.behaviours:
            return list(self.sb.workers[len(self.config.behaviours) :])
        return []

    def attendee_urls(self) -> dict:
        """With ``listen``: the URLs an attendee's SDK uses (keys as in ``NodeInfo.urls``): the
        chain's front with the token joined (the SDK keeps a host URL's path), the other
        fronts without it (the SDK drops their path: :data:`TOKEN_MODULE` sends the token)."""
        lan = self.lan
        gateway = "ipfs_gateway" if "ipfs_gateway" in lan.services else "ipfs"
        return {
            "chain": lan.joined("chain"),
            "ipfs_api": lan.url("ipfs"),
            "ipfs_gateway": lan.url(gateway),
            "result_proxy": lan.url("result_proxy"),
            "market": lan.url("market"),
            "sms": lan.url("sms"),
            "scheduler": lan.url("scheduler") if "scheduler" in lan.services else None,
        }

    def _open_lan_scheduler(self) -> None:
        if self.lan is None or self.pool is None:
            return
        self.lan.open("scheduler", self.pool.url, port=self.config.scheduler_port)

    def _open_for_business(self) -> None:
        """Stakes deposited, the app's and the workerpool's orders signed and published."""
        import random

        from iexec_kit.actors.drive import Drive, build_workerpool, open_for_business
        from iexec_kit.actors.events import EventStream

        sb, cfg = self.sb, self.config
        self.stream = EventStream()
        scheduler, workers = build_workerpool(
            sb, stream=self.stream, runner=cfg.runner, seed=self.seed
        )
        for w in sb.workers:
            sb.hub.deposit(w, cfg.worker_deposit)
        sb.hub.deposit(sb.scheduler, cfg.scheduler_deposit)
        rng = random.Random(f"node-{self.seed}")
        open_for_business(
            scheduler,
            sb.book,
            sb.app_developer,
            sb.app_address,
            app_price=cfg.app_price,
            workerpool_price=cfg.workerpool_price,
            volume=cfg.volume,
            category=cfg.category,
            trust=cfg.trust,
            rng=rng,
        )
        self.drive = Drive(scheduler)

    def _start_pool_service(self) -> None:
        """With workerpool "processes": the scheduler's API for the worker processes."""
        if self.config.workerpool != "processes":
            return
        from iexec_kit.actors.pool import PoolService

        sb, cfg = self.sb, self.config
        storage = sb.storage
        self.pool = PoolService(
            sb.hub,
            sb.scheduler,
            sb.workerpool_address,
            urls={
                "chain": self._lan_url(
                    "chain", self.devnode.url if self.devnode is not None else self.chain_url
                ),
                "result_proxy": self._lan_url("result_proxy", storage.proxy_url),
                "sms": self._lan_url("sms", self.sms.url if self.sms is not None else None),
                "ipfs_gateway": self._lan_url("ipfs_gateway", storage.gateway_url),
            },
            seed=self.seed,
            host="127.0.0.1",  # with listen, its LAN front asks the token first
            port=0 if cfg.listen else cfg.scheduler_port,
            token_ttl=cfg.token_ttl,
            ping_timeout=cfg.ping_timeout,
            poll=min(cfg.poll, 0.3),
            log=self.log,
        ).start()

    def start_worker_process(
        self, name: str, behaviour: str = "honest", *extra: str, scheduler_url: str | None = None
    ):
        """Start ``iexec-kit worker`` for participant ``name`` (its wallet.json) against the
        node's scheduler (or ``scheduler_url``); its output goes to <folder>/logs/<name>.log.
        Returns the Popen (stopped with the node)."""
        import subprocess
        import sys

        logs = self.folder / "logs"
        logs.mkdir(exist_ok=True)
        n = sum(1 for p in self.worker_procs if getattr(p, "participant", None) == name)
        out = open(logs / (f"{name}.log" if n == 0 else f"{name}-{n + 1}.log"), "ab")  # noqa: SIM115 - the child's, closed at stop
        cmd = [
            sys.executable,
            "-m",
            "iexec_kit.cli",
            "worker",
            "--scheduler",
            scheduler_url or self.pool.url,
            "--wallet",
            str(self.folder / name / WALLET_FILE),
            "--behaviour",
            behaviour,
            "--runner",
            self.config.runner,
            "--folder",
            str(self.folder / "state" / "workers"),
            "--delay",
            str(self.config.slow_delay),
            *extra,
        ]
        env = dict(
            os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
        )
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT)
        proc.log_file, proc.participant = out, name
        self.worker_procs.append(proc)
        return proc

    def _start_workerpool(self) -> None:
        if self.config.workerpool == "external":
            return
        if self.config.workerpool == "processes":
            # with behaviours given, only that many workers start (the others' wallets are free)
            behaviours = list(self.config.behaviours) or ["honest"] * len(self.sb.workers)
            for p, b in zip(self.sb.workers, behaviours):
                self.start_worker_process(p.name, b)
            return

        def record(exc: Exception) -> None:
            from iexec_kit.actors.worker import error_reason

            self.errors.append(error_reason(exc))
            del self.errors[:-50]
            self.log(f"workerpool: {error_reason(exc)} (retrying)")

        self._thread = threading.Thread(
            target=self.drive.serve,
            args=(self._stop,),
            kwargs={"poll": self.config.poll, "on_error": record},
            name="iexec-kit-workerpool",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the workerpool, the services and the chain (if the node started it);
        idempotent. The folder's files stay (node.json says what ran)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        for proc in self.worker_procs:  # all asked at once, then waited for
            if proc.poll() is None:
                proc.terminate()
        for proc in self.worker_procs:
            stop_process(proc)
        self.worker_procs = []
        if self.lan is not None:
            self.lan.stop()
            self.lan = None
        if self.pool is not None:
            self.pool.stop()
            self.pool = None
        if self.market is not None:
            self.market.stop()
        self.market = self.sms = None
        if self.sb is not None:
            self.sb.close()
            self.sb = None
        if self.devnode is not None:
            self.devnode.stop()
            self.devnode = None

    def deals(self) -> list:
        """The deals the workerpool has seen, oldest first (:class:`iexec_kit.poco.Deal`)."""
        if self.sb is None:
            return []
        scheduler = self.pool.scheduler if self.pool is not None else self.drive.scheduler
        return list(scheduler.deals.values())

    def wait_completed(self, taskid: str, timeout: float = 180.0):
        """Block until task ``taskid`` is COMPLETED (the workerpool serves it meanwhile) and
        return it (:class:`iexec_kit.poco.Task`); :class:`TaskTimeoutError` after ``timeout``
        seconds, saying the status it is in and the workerpool's last errors."""
        from iexec_kit.protocol.statuses import TaskStatus

        deadline = time.monotonic() + timeout
        task = None
        while time.monotonic() < deadline:
            try:
                task = self.sb.hub.task(taskid)
            except Exception:  # noqa: BLE001 - not initialized yet: no task on chain
                task = None
            if task is not None and task.status == TaskStatus.COMPLETED:
                return task
            time.sleep(0.2)
        raise TaskTimeoutError(
            f"task {taskid} is not COMPLETED after {timeout:.0f} s",
            expected="the node's workerpool to finish it",
            got=f"status {_status_words(task)}; workerpool errors: {self.errors[-3:] or 'none'}",
            hint="look at the node's output; a deal the workerpool refused is said there",
        )

    def wait(self) -> None:
        """Block until :meth:`stop` or a stop signal (the CLI sets SIGINT/SIGTERM handlers)."""
        while not self._stop.wait(0.5):
            pass

    def request_stop(self) -> None:
        """Ask :meth:`wait` to return (safe from a signal handler)."""
        self._stop.set()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----- what the node is --------------------------------------------------------------------
    def _describe(self, sample: str, previous: str | None) -> NodeInfo:
        sb = self.sb
        storage = sb.storage
        urls = {
            "chain": self.devnode.url if self.devnode is not None else self.chain_url,
            "ipfs_api": storage.daemon.api_url if storage.daemon else storage.ipfs.base,
            "ipfs_gateway": storage.gateway_url,
            "result_proxy": storage.proxy_url,
            "market": self.market.url if self.market is not None else None,
            "sms": self.sms.url if self.sms is not None else None,
            "scheduler": self.pool.url if self.pool is not None else None,
        }
        participants = {
            p.name: {
                "role": p.role,
                "address": p.address,
                "folder": str(self.folder / p.name),
            }
            for p in sb.participants
        }
        return NodeInfo(
            folder=str(self.folder),
            started=time.time(),
            chain_id=sb.chain.chain_id,
            urls=urls,
            hub=sb.hub.address,
            rlc=sb.deployment.rlc,
            app=sb.app_address,
            workerpool=sb.workerpool_address,
            participants=participants,
            sample_input=sample,
            previous=previous,
            deployment=sb.deployment.as_dict(),
            workerpool_mode=self.config.workerpool,
            lan=(
                {**self.lan.as_dict(), "attendees": self._attendee_folders()}
                if self.lan is not None
                else None
            ),
        )

    def _attendee_folders(self) -> dict:
        """wallet name -> the attendee's SDK folder (<folder>/lan/<name>)."""
        return {w.name: str(self.folder / ATTENDEES_FOLDER / w.name) for w in self.spare_workers()}

    def _write_files(self) -> None:
        """node.json, chain.json, and a folder per participant with chain.json and wallet.json."""
        info = self.info
        chain_json = json.dumps(info.chain_json(), indent=2) + "\n"
        _write(self.folder / NODE_FILE, json.dumps(info.as_dict(), indent=2) + "\n")
        _write(self.folder / CHAIN_FILE, chain_json)
        for p in self.sb.participants:
            where = self.folder / p.name
            where.mkdir(exist_ok=True)
            _write(where / CHAIN_FILE, chain_json)
            _write(where / WALLET_FILE, json.dumps(sdk_wallet(p.key), indent=2) + "\n", 0o600)
            if not (where / IEXEC_FILE).exists():  # the learner's own app and orders stay
                _write(where / IEXEC_FILE, json.dumps(sdk_project(p), indent=2) + "\n")
        if self.lan is not None:
            lan = {
                **info.lan,
                "token": self.lan.token,
                "joined": {k: self.lan.joined(k) for k in self.lan.services},
            }
            _write(self.folder / LAN_FILE, json.dumps(lan, indent=2) + "\n", 0o600)
            self._write_attendee_folders()

    def _write_attendee_folders(self) -> None:
        """With ``listen``: <folder>/lan/<wallet>/ for each spare wallet, what an attendee copies
        to their laptop to use iExec's SDK through the fronts: chain.json (the LAN URLs),
        wallet.json, iexec.json and the token module. The token is in chain.json and the
        module: every file holding it or the key is mode 0600, the folders 0700."""
        if not self.spare_workers():
            return
        info, lan = self.info, self.lan
        root = self.folder / ATTENDEES_FOLDER
        root.mkdir(mode=0o700, exist_ok=True)
        root.chmod(0o700)  # mkdir's mode is for a new folder only
        urls = self.attendee_urls()
        chain_json = json.dumps(info.chain_json(urls), indent=2) + "\n"
        origins = sorted({s.front.url for s in lan.services.values()})
        module = lan_token_module(lan.token, origins)
        for w in self.spare_workers():
            where = root / w.name
            where.mkdir(mode=0o700, exist_ok=True)
            where.chmod(0o700)
            _write(where / CHAIN_FILE, chain_json, 0o600)
            _write(where / WALLET_FILE, json.dumps(sdk_wallet(w.key), indent=2) + "\n", 0o600)
            _write(where / TOKEN_MODULE, module, 0o600)
            _write(where / IEXEC_FILE, json.dumps(sdk_project(w), indent=2) + "\n")


def _status_words(task) -> str:
    from iexec_kit.protocol.statuses import TaskStatus

    if task is None or task.status == TaskStatus.UNSET:
        return "UNSET (not initialized yet)"
    return task.status.name


def stop_process(proc, timeout: float = 10.0) -> None:
    """SIGTERM a child, wait, then SIGKILL it; close its log."""
    import subprocess

    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    log_file = getattr(proc, "log_file", None)
    if log_file is not None:
        log_file.close()


def sdk_wallet(key: bytes) -> dict:
    """The SDK's unencrypted wallet.json for a private key: privateKey, publicKey, address."""
    from eth_keys import keys

    private = keys.PrivateKey(bytes(key))
    return {
        "privateKey": "0x" + bytes(key).hex(),
        "publicKey": "0x04" + private.public_key.to_bytes().hex(),
        "address": private.public_key.to_checksum_address(),
    }


def sdk_project(p) -> dict:
    """The SDK's iexec.json as `iexec init` starts it (what the resources are, for whom)."""
    return {
        "description": (
            f"Resources of {p.name}, the {ROLE_TITLES.get(p.role, p.role)} of a local iexec-kit "
            "node: a sandbox to practise iExec's CLI offline before using iExec's network."
        ),
        "license": "Apache-2.0",
        "author": p.name,
        "social": {"website": "?", "github": "?"},
        "logo": "logo.png",
    }


_TOKEN_MODULE_SOURCE = """\
// {name}: the workshop's token for iExec's SDK, written by `iexec-kit node --listen`.
// Load it in each terminal where you run the SDK, from this folder:
//     export NODE_OPTIONS="--import=$PWD/{name}"
// Why: the node's services are behind fronts that ask the token for every write. chain.json's
// "host" carries it in its path (/t/<token>), which the SDK keeps; for the other services
// (iexecGateway, resultProxy, sms, ipfsGateway) the SDK resolves each call's path against the
// URL, which drops /t/<token>. So this module adds the token as the {header} header to
// the SDK's fetch() calls to the node's fronts, and to no other address.
// It holds the workshop's token: for the room only.
const TOKEN = {token};
const FRONTS = new Set({origins});
const send = globalThis.fetch;
globalThis.fetch = function fetchWithWorkshopToken(input, init) {{
  let origin = null;
  try {{
    origin = new URL(input instanceof Request ? input.url : String(input)).origin;
  }} catch {{
    return send(input, init);
  }}
  if (!FRONTS.has(origin)) return send(input, init);
  const headers = new Headers(
    init?.headers ?? (input instanceof Request ? input.headers : undefined),
  );
  headers.set({header_js}, TOKEN);
  return send(input, {{ ...init, headers }});
}};
"""


def lan_token_module(token: str, origins: list[str]) -> str:
    """The ES module (:data:`TOKEN_MODULE`) that adds the workshop's token as a header to every
    fetch() to the given origins (``http://HOST:PORT``, the fronts'): iExec's SDK drops a URL's
    path for every service but the chain, so a joined URL cannot carry the token there."""
    from iexec_kit.storage.lan import TOKEN_HEADER

    return _TOKEN_MODULE_SOURCE.format(
        name=TOKEN_MODULE,
        header=TOKEN_HEADER,
        header_js=json.dumps(TOKEN_HEADER),
        token=json.dumps(token),
        origins=json.dumps(list(origins)),
    )


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    """Whole or nothing: a temporary file renamed over the target."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)  # O_CREAT's mode is for a new file only: a leftover .tmp keeps its own
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
