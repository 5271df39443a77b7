"""The demo's steps, and the whole demo in one call, as ``iexec-kit demo`` runs it and a notebook
can too.

:func:`run_demo` goes through the demo's steps on a :class:`iexec_kit.sandbox.Sandbox`:
storage set-up (the requester's proxy token), step 0 (the app developer's and the scheduler's
orders), step 1 (the requester's deposit, request order and deal), steps 2-3 (the scheduler and
its workers reach a consensus, driven by :class:`iexec_kit.actors.drive.Drive`), step 4 (the
result uploaded, finalized, downloaded and checked against the consensus digest). It returns a
:class:`DemoReport` whose ``summary`` is the ``--json`` output.

Each step is a function of its own (:func:`set_up_storage`, :func:`stake`, :func:`fund_requester`,
:func:`publish_orders`, :func:`request_params`, :func:`buy`, :func:`download_results`), with its
prices, deposits and params read from one :class:`DemoConfig`: the notebooks' fast-forward
(:func:`iexec_kit.tutorial.steps.at`) calls the same ones.

    from iexec_kit.tutorial.demo import DemoConfig, run_demo
    report = run_demo(DemoConfig(workers=5, trust=5, cheaters=2, engine="numpy"))
    report.ok, report.summary["tasks"][0]["contributions"]
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from iexec_kit.actors.events import (
    DealCreated,
    Deposited,
    EventStream,
    NetworkReady,
    Tx,
)
from iexec_kit.actors.worker import Behaviour
from iexec_kit.errors import KitValueError
from iexec_kit.protocol.statuses import TaskStatus
from iexec_kit.protocol.units import RLC

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INPUT = REPO_ROOT / "data" / "chelsea.png"
# what the requester deposits unless told (more when the deal costs more)
DEFAULT_DEPOSIT = 100 * RLC


#: the demo app's ``--style`` and ``--engine`` choices, as apps/gimp-cartoon/entrypoint.py parses
#: them (the app is a program of its own and cannot import the kit; tests/apps checks they agree)
APP_STYLES = ("gimpfu", "cartoon")
APP_ENGINES = ("auto", "gimp", "numpy")


@dataclass
class DemoConfig:
    """What ``iexec-kit demo`` runs. ``workers`` counts the honest workers; ``cheaters``
    (colluding), ``lone_cheaters``, ``lazy``, ``crashing`` and ``slow`` workers come on top of
    them (so ``workers=5, cheaters=2`` is seven accounts: at trust 5, five fresh honest workers
    outweigh two colluders; PoCo's formula needs that many)."""

    workers: int = 3
    trust: int | None = None  # None: 5, or the most the honest workers can reach alone
    cheaters: int = 0
    lone_cheaters: int = 0  # cheaters each with a wrong result of its own
    lazy: int = 0
    crashing: int = 0
    slow: int = 0
    volume: int = 1
    style: str = "gimpfu"
    engine: str | None = None  # the app's --engine (auto|gimp|numpy); None: the app's default
    input: str | None = None  # a path, http(s) URL or /ipfs/... (default data/chelsea.png)
    encrypt: bool = False
    storage: str = "ipfs"  # "ipfs" or "private" (the proxy keeps it; iExec's "dropbox" slot)
    runner: str = "process"
    chain_url: str | None = None
    protocol: str = "kit"  # "kit" or "poco" (iExec's published PoCo 6.1.0)
    ipfs_api: str | None = None
    output: str | Path | None = None
    app_price: int = 1 * RLC
    workerpool_price: int = 1 * RLC
    deposit: int | None = None  # the requester's deposit (nRLC); None: what the deal costs
    category: int = 0
    seed: int = 0
    parallel: int = (os.cpu_count() or 1) + 1  # apps running at once (GIMP waits on I/O too)

    def behaviours(self) -> list[Behaviour]:
        """One behaviour per worker account, honest ones first."""
        for name in ("workers", "cheaters", "lone_cheaters", "lazy", "crashing", "slow"):
            if getattr(self, name) < 0:
                raise KitValueError(
                    f"--{name.replace('_', '-')} cannot be negative", got=str(getattr(self, name))
                )
        return (
            [Behaviour.HONEST] * self.workers
            + [Behaviour.COLLUDING] * self.cheaters
            + [Behaviour.CHEATER] * self.lone_cheaters
            + [Behaviour.LAZY] * self.lazy
            + [Behaviour.CRASHING] * self.crashing
            + [Behaviour.SLOW] * self.slow
        )

    def effective_trust(self) -> int:
        """The request's trust: as given, else 5 when the honest workers can reach it alone, else
        the highest trust they can (4 with 2 workers, 2 with 1)."""
        if self.trust is not None:
            return self.trust
        from iexec_kit.poco.consensus import contributions_needed

        return next((t for t in (5, 4, 3, 2) if contributions_needed(t) <= self.workers), 1)

    def app_args(self) -> str:
        return f"--style {self.style}" + (f" --engine {self.engine}" if self.engine else "")

    def cost(self) -> int:
        """What the deal costs the requester (nRLC): (app + workerpool price) x volume."""
        return (self.app_price + self.workerpool_price) * self.volume

    def budget(self) -> int:
        """The requester's deposit (nRLC): as given, else the default or the cost if more."""
        return max(DEFAULT_DEPOSIT, self.cost()) if self.deposit is None else self.deposit

    def check(self) -> list[Behaviour]:
        """The behaviours, after checking what the demo needs (a worker, a task, a storage)."""
        behaviours = self.behaviours()
        if not behaviours:
            raise KitValueError(
                "the demo needs at least one worker", expected="--workers >= 1", got="0"
            )
        if self.volume < 1:
            raise KitValueError(
                "the demo buys at least one task", expected="--volume >= 1", got=str(self.volume)
            )
        if self.storage not in ("ipfs", "private"):
            raise KitValueError(
                "unknown result storage", expected="ipfs or private", got=self.storage
            )
        return behaviours


@dataclass
class DemoReport:
    """What a demo run did: ``ok`` when every task is COMPLETED and each downloaded result's
    digest is the consensus; ``summary`` is plain data (the --json output)."""

    ok: bool
    summary: dict
    stream: EventStream
    sandbox: object = field(repr=False, default=None)


def _accounts(sb) -> dict:
    return {
        a.address: {
            "name": a.name,
            "eth": a.eth,
            "wallet_rlc": a.wallet_rlc,
            "stake": a.stake,
            "locked": a.locked,
        }
        for a in sb.accounts()
    }


def _kitty(sb) -> int:
    return sb.hub.account(sb.hub.config().kitty_address).locked


def publish_input(sb, source: str | None) -> str:
    """The input the request names: a local image is added to the kit's IPFS (as a folder, so
    its name travels: /ipfs/<cid>/<name>); a URL is used as it is."""
    source = str(source or DEFAULT_INPUT)
    if source.startswith(("http://", "https://", "ipfs://", "/ipfs/")):
        return source
    path = Path(source).expanduser()
    if not path.is_file():
        raise KitValueError(
            "no input image there",
            expected="an image file, an http(s) URL or /ipfs/<cid>/<name>",
            got=source,
            hint="give --input a PNG or JPEG file, e.g. data/chelsea.png",
        )
    from iexec_kit.compute.fetch import sniff

    with open(path, "rb") as fh:
        kind = sniff(fh.read(16))
    if kind not in ("png", "jpeg"):
        raise KitValueError(
            f"{path} is not a PNG or JPEG picture; nothing was signed",
            expected="a PNG or JPEG file (the app cartoonizes pictures)",
            got=f"{kind} content",
            hint="give --input a picture, e.g. data/chelsea.png",
        )
    folder = sb.folder / "inputs" / path.stem
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, folder / path.name)
    cid = sb.storage.ipfs.add_path(folder)
    return f"/ipfs/{cid}/{path.name}"


# ----- the demo's steps, one function each ----------------------------------------------------


def _deposit(sb, stream: EventStream, who, amount: int) -> None:
    receipt = sb.hub.deposit(who, amount)
    stream.emit(Deposited(who.address, who.name, amount, time=sb.chain.now(), tx=Tx.of(receipt)))


def set_up_storage(sb, cfg: DemoConfig, stream: EventStream) -> str:
    """Storage set-up: the requester's token for the result proxy, the input on IPFS (and the
    beneficiary's key pair when the result is encrypted). Returns the input's URL."""
    storage = sb.storage
    storage.storage_init(sb.requester.key)
    input_url = publish_input(sb, cfg.input)
    stream.emit(
        NetworkReady(
            sb.chain.describe(),
            sb.deployment.hub,
            sb.app_address,
            sb.app.name,
            sb.workerpool_address,
            f"IPFS {storage.gateway_url}, result proxy {storage.proxy_url}",
            input_url,
            time=sb.chain.now(),
        )
    )
    if cfg.encrypt:
        storage.beneficiary_keys(sb.requester.address, bits=2048)
    return input_url


def stake(sb, cfg: DemoConfig, workers, stream: EventStream) -> None:
    """Step 0, the sellers' stakes: the workerpool's owner deposits what its orders lock (the
    hub's workerpool stake ratio of its price, per task), each worker what its contributions
    lock (the workerpool's worker stake ratio)."""
    hub = sb.hub
    pool_stake = hub.config().pool_stake(cfg.workerpool_price) * cfg.volume
    missing = pool_stake - hub.account(sb.scheduler.address).stake
    if missing > 0:
        _deposit(sb, stream, sb.scheduler, missing)
    worker_stake = cfg.workerpool_price * sb.workerpool.worker_stake_ratio // 100 * cfg.volume
    for w in workers:
        before = hub.account(w.address).stake
        receipt = w.ensure_stake(worker_stake)
        if receipt is not None:
            stream.emit(
                Deposited(
                    w.address,
                    w.name,
                    hub.account(w.address).stake - before,
                    time=sb.chain.now(),
                    tx=Tx.of(receipt),
                )
            )


def fund_requester(sb, cfg: DemoConfig, stream: EventStream) -> None:
    """The requester deposits its budget (:meth:`DemoConfig.budget`) into the hub."""
    budget = cfg.budget()
    if budget > 0:
        _deposit(sb, stream, sb.requester, budget)


def publish_orders(sb, cfg: DemoConfig, scheduler, rng: random.Random):
    """Step 0, the sellers' orders: the app developer's and the scheduler's, signed and published
    at the config's prices, volume, category and trust. Returns ``(app_entry, pool_entry)``."""
    from iexec_kit.actors.drive import open_for_business

    return open_for_business(
        scheduler,
        sb.book,
        sb.app_developer,
        sb.app_address,
        app_price=cfg.app_price,
        workerpool_price=cfg.workerpool_price,
        volume=cfg.volume,
        category=cfg.category,
        trust=cfg.effective_trust(),
        rng=rng,
    )


def request_params(cfg: DemoConfig, input_url: str | None):
    """The request's params: the app's arguments, the input image's URL, the result storage.

    The proxy is the sandbox's own and its port changes every run: left out of the params, the
    same demo gives the same deal id, task ids and hashes every run."""
    from iexec_kit.poco.orders import RequestParams

    return RequestParams(
        args=cfg.app_args(),
        input_files=(input_url,) if input_url else (),
        storage_provider="dropbox" if cfg.storage == "private" else "ipfs",
        encryption=cfg.encrypt,
    )


def buy(sb, cfg: DemoConfig, params, stream: EventStream, rng: random.Random):
    """Step 1: the requester's request order, its funds checked before anything is signed (the
    kit's one funds check, :meth:`iexec_kit.actors.requester.Quote.check_funds`), signed and
    matched into a deal. Returns the :class:`iexec_kit.poco.matching.MatchResult`."""
    from iexec_kit.actors.requester import quote_execution

    hub = sb.hub
    quote = quote_execution(
        hub,
        sb.book,
        sb.requester,
        sb.app_address,
        params=params,
        volume=cfg.volume,
        trust=cfg.effective_trust(),
        category=cfg.category,
        workerpool=sb.workerpool_address,
        rng=rng,
    )
    quote.check_funds(hub, name=sb.requester.name)
    app_order, dataset_order, pool_order = quote.match.orders()
    match = hub.match_orders(
        app_order,
        dataset_order,
        pool_order,
        hub.sign_order(quote.request, sb.requester),
        sender=sb.requester,
    )
    stream.emit(DealCreated.of(match, time=sb.chain.now()))
    return match


def download_results(sb, cfg: DemoConfig, scheduler, stream: EventStream, deal):
    """Step 4: the requester downloads each task's result and checks its digest against the
    consensus. Returns ``(tasks, ok)``: one summary entry per task, and whether all were good."""
    out_root = Path(cfg.output) if cfg.output else sb.folder / "results"
    tasks, ok = [], True
    for tid in deal.task_ids():
        entry, good = _download(sb, scheduler, stream, tid, out_root, cfg)
        ok = ok and good
        tasks.append(entry)
    return tasks, ok


def run_demo(
    config: DemoConfig | None = None,
    *,
    sandbox=None,
    stream: EventStream | None = None,
    restart_after=None,
) -> DemoReport:
    """Run the demo end to end (see the module docstring). ``sandbox``: an existing one (else a
    new one is started, and closed at the end); ``stream``: subscribe to it for live progress;
    ``restart_after(event)``: when true, the scheduler is replaced by a fresh one (a restart)."""
    from iexec_kit.actors.drive import Drive, build_workerpool
    from iexec_kit.actors.scheduler import Scheduler
    from iexec_kit.sandbox import Sandbox

    cfg = config or DemoConfig()
    stream = stream if stream is not None else EventStream()
    behaviours = cfg.check()
    timings: dict[str, float] = {}
    t0 = tick = time.monotonic()

    def phase(name: str) -> None:
        nonlocal tick
        now = time.monotonic()
        timings[name] = round(now - tick, 3)
        tick = now

    own = sandbox is None
    sb = sandbox or Sandbox.start(
        workers=len(behaviours),
        chain_url=cfg.chain_url,
        ipfs_api=cfg.ipfs_api,
        seed=cfg.seed,
        protocol=cfg.protocol,
    )
    try:
        phase("start")
        hub, rng = sb.hub, random.Random(f"demo-{cfg.seed}")
        accounts_before, hub_before, kitty_before = _accounts(sb), hub.hub_rlc(), _kitty(sb)
        input_url = set_up_storage(sb, cfg, stream)
        phase("storage")
        # step 0: the app developer and the scheduler sell; everyone stakes
        scheduler, workers = build_workerpool(
            sb, behaviours, stream=stream, runner=cfg.runner, seed=cfg.seed
        )
        scheduler.from_block = sb.chain.block_number()
        fund_requester(sb, cfg, stream)
        stake(sb, cfg, workers, stream)
        publish_orders(sb, cfg, scheduler, rng)
        phase("orders")
        # step 1: the requester buys; the funds are checked before anything is signed
        match = buy(sb, cfg, request_params(cfg, input_url), stream, rng)
        deal = match.deal
        phase("deal")
        # steps 2-3 (and the finalization of step 4): the workerpool at work
        drive = Drive(scheduler, parallel=cfg.parallel)
        if restart_after is not None:
            drive.run_until(restart_after)
            fresh = Scheduler(
                hub,
                sb.scheduler,
                sb.workerpool_address,
                workers,
                stream=stream,
                seed=cfg.seed + 1,
                from_block=scheduler.from_block,
            )
            drive.restart_scheduler(fresh)
            scheduler = fresh
        drive.run()
        phase("deal_to_finalized")
        # step 4: the requester downloads each result and checks it
        tasks, ok = download_results(sb, cfg, scheduler, stream, deal)
        phase("download")
        timings["total"] = round(time.monotonic() - t0, 3)
        gas = stream.gas_by_operation()
        summary = {
            "ok": ok,
            "chain": sb.chain.describe(),
            "deal_id": match.dealid,
            "app": sb.app_address,
            "workerpool": sb.workerpool_address,
            "input": input_url,
            "params": deal.params,
            "price_per_task": deal.price_per_task,
            "volume": match.volume,
            "trust": deal.trust,
            "tasks": tasks,
            "accounts": {"before": accounts_before, "after": _accounts(sb)},
            "hub_rlc": {"before": hub_before, "after": hub.hub_rlc()},
            "kitty": {"before": kitty_before, "after": _kitty(sb)},
            "gas": {op: int(statistics.median(v)) for op, v in sorted(gas.items())},
            "timings": timings,
        }
        return DemoReport(ok, summary, stream, sb if not own else None)
    finally:
        if own:
            sb.close()


def _download(
    sb, scheduler, stream, tid: str, out_root: Path, cfg: DemoConfig
) -> tuple[dict, bool]:
    from iexec_kit.actors.results import download_result

    task = sb.hub.task(tid)
    contributions = []
    for w in task.contributors:
        worker = scheduler.worker(w)
        contributions.append(
            {
                "worker": worker.name if worker else w,
                "address": w,
                "behaviour": worker.behaviour.value if worker else "unknown",
                "status": sb.hub.contribution(tid, w).status.name,
            }
        )
    entry = {
        "task_id": tid,
        "status": task.status.name,
        "consensus": task.consensus_value,
        "result_digest": task.result_digest,
        "result_cid": None,
        "result_path": None,
        "contributions": contributions,
    }
    if task.status != TaskStatus.COMPLETED:
        return entry, False
    key = None
    if cfg.encrypt:
        key = sb.storage.beneficiary_keys(sb.requester.address, bits=2048).private
    got = download_result(
        sb.hub, sb.storage, tid, out_root / tid[2:14], private_key=key, stream=stream
    )
    entry["result_location"] = got.location
    entry["result_cid"] = got.cid
    entry["result_path"] = str(got.output)
    entry["files"] = sorted(
        str(p.relative_to(got.folder)) for p in got.folder.rglob("*") if p.is_file()
    )
    return entry, got.matches
