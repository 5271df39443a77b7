"""The Sandbox: one local iExec network wired together, the object every notebook starts from.

``Sandbox.start()`` starts a chain (in-process py-evm by default, or an RPC node), deploys the
protocol, gives every participant ETH and RLC, registers the demo app (apps/gimp-cartoon) and a
workerpool, and offers typed views of them. The CLI, the notebooks and the tests all go through it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from iexec_kit.chain import Chain, Participant
from iexec_kit.chain.accounts import DEFAULT_WORKERS, ROLE_TITLES
from iexec_kit.chain.deploy import Deployment, deploy_protocol
from iexec_kit.errors import KitValueError
from iexec_kit.poco import AppInfo, Hub, WorkerpoolInfo
from iexec_kit.protocol.units import RLC

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_APP_DIR = REPO_ROOT / "apps" / "gimp-cartoon"
WORKERPOOL_DESCRIPTION = "iexec-kit sandbox workerpool"
#: what Sandbox.start(protocol=...) deploys: the kit's contracts, or iExec's published PoCo
PROTOCOLS = ("kit", "poco")

# RLC each participant holds in its wallet after set-up (nothing is deposited yet)
STARTING_RLC = {
    "requester": 1_000 * RLC,
    "app_developer": 10 * RLC,
    "dataset_owner": 10 * RLC,
    "scheduler": 1_000 * RLC,
    "worker": 100 * RLC,
}


@dataclass(frozen=True)
class AppManifest:
    """apps/<name>/iexec.json: what the kit registers on chain for an app."""

    name: str
    type: str
    image: str
    checksum: bytes
    default_args: str
    folder: Path

    @classmethod
    def read(cls, folder: Path | str) -> AppManifest:
        folder = Path(folder)
        path = folder / "iexec.json"
        data = {}
        if path.exists():
            try:
                data = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise KitValueError(
                    f"{path} is not valid JSON",
                    got=str(exc),
                    hint="fix the manifest: it is a JSON object",
                ) from None
        elif not folder.is_dir():
            raise KitValueError(
                "no app folder there", expected="a folder with an iexec.json", got=str(folder)
            )
        name = data.get("name", folder.name)
        checksum = data.get("checksum")
        digest = bytes.fromhex(checksum[2:]) if checksum else source_tree_sha256(folder)
        return cls(
            name=name,
            type=data.get("type", "DOCKER"),
            image=data.get("image", f"iexec-kit/{name}:latest"),
            checksum=digest,
            default_args=data.get("default_args", ""),
            folder=folder,
        )


def source_tree_sha256(folder: Path) -> bytes:
    """sha256 over an app's source tree (sorted paths and contents): the app's checksum when no
    image was built. Caches and notebook checkpoints are left out."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if "__pycache__" in rel or ".ipynb_checkpoints" in rel:
            continue
        h.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.digest()


@dataclass(frozen=True)
class AccountView:
    """One participant's money: ETH for gas, RLC in the wallet, and stake/locked on the hub."""

    name: str
    role: str
    address: str
    eth: int  # wei
    wallet_rlc: int  # nRLC
    stake: int  # nRLC, free on the hub
    locked: int  # nRLC, frozen on the hub

    def as_dict(self) -> dict:
        return asdict(self)


class Sandbox:
    """A whole iExec network for one learner: chain, protocol, participants, the demo app."""

    def __init__(
        self,
        chain: Chain,
        deployment: Deployment,
        folder: Path,
        app: str,
        workerpool: str,
        seed: int = 0,
        app_dir: str | Path = DEMO_APP_DIR,
        ipfs_api: str | None = None,
        sms: bool = False,
    ):
        self.chain = chain
        self.deployment = deployment
        self.hub = Hub(chain, deployment)
        self.folder = folder
        self.app_address = app
        self.workerpool_address = workerpool
        self.seed = seed
        self.app_dir = Path(app_dir)
        self.ipfs_api = ipfs_api
        self.sms = sms
        self._storage = None
        self._book = None

    # ----- start --------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        *,
        workers: int = DEFAULT_WORKERS,
        chain_url: str | None = None,
        folder: str | Path | None = None,
        app_dir: str | Path = DEMO_APP_DIR,
        seed: int = 0,
        ipfs_api: str | None = None,
        sms: bool = False,
        protocol: str = "kit",
    ) -> Sandbox:
        """Start a chain, deploy the protocol, fund everyone, register the demo app and a
        workerpool.

        ``chain_url``: None for the in-process chain, or a JSON-RPC URL (e.g. a Hardhat node).
        ``folder``: where the sandbox keeps its files (a fresh temporary folder by default).
        ``ipfs_api``: a Kubo RPC API URL to use instead of the embedded IPFS node.
        ``sms``: also start an SMS (:mod:`iexec_kit.storage.sms`, iExec's web2 secrets) with the
        storage: storage init then pushes the requester's token there and workers read it there.
        ``protocol``: "kit" (the default) deploys the kit's own readable contracts
        (iexec_kit/chain/contracts); "poco" deploys iExec's published PoCo 6.1.0 from the npm
        package @iexec/poco (:mod:`iexec_kit.chain.published`; ``npm ci`` installs it).
        Storage (IPFS + result proxy) and the order book start on first use (:attr:`storage`,
        :attr:`book`); :meth:`close` stops them.
        """
        if protocol not in PROTOCOLS:
            raise KitValueError(
                f"unknown protocol {protocol!r}",
                expected=" or ".join(repr(p) for p in PROTOCOLS),
                got=repr(protocol),
                hint='"kit" for the kit\'s own contracts, "poco" for iExec\'s published PoCo',
            )
        chain = (
            Chain.in_process(workers) if chain_url is None else Chain.connect(chain_url, workers)
        )
        if protocol == "poco":
            from iexec_kit.chain.published import deploy_published_poco

            deployment = deploy_published_poco(chain)
        else:
            deployment = deploy_protocol(chain)
        hub = Hub(chain, deployment)
        for p in chain.participants:
            amount = STARTING_RLC.get(p.role, 0)
            if amount:
                hub.mint(p.address, amount)
        manifest = AppManifest.read(app_dir)
        app = hub.create_app(
            chain.participant("app_developer"),
            manifest.name,
            manifest.image,
            manifest.checksum,
            manifest.type,
        )
        pool = hub.create_workerpool(chain.participant("scheduler"), WORKERPOOL_DESCRIPTION)
        folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="iexec-kit-"))
        folder.mkdir(parents=True, exist_ok=True)
        return cls(
            chain, deployment, folder, app, pool, seed, app_dir=app_dir, ipfs_api=ipfs_api, sms=sms
        )

    # ----- services, started on first use -------------------------------------------------
    @property
    def storage(self):
        """The IPFS node and the result proxy (:class:`iexec_kit.storage.LocalStorage`), started
        on first use on 127.0.0.1 and checked against this sandbox's hub; :meth:`close` stops
        them."""
        if self._storage is None:
            from iexec_kit.storage import HubTaskOracle, LocalStorage

            self._storage = LocalStorage(
                self.folder / "storage",
                oracle=HubTaskOracle(self.hub),
                chain_id=self.chain.chain_id,
                ipfs_api=self.ipfs_api,
                sms=True if self.sms else None,
            ).start()
        return self._storage

    @property
    def book(self):
        """The marketplace's order book (:class:`iexec_kit.market.OrderBook`), a SQLite file in
        :attr:`folder`."""
        if self._book is None:
            from iexec_kit.market import OrderBook

            self._book = OrderBook(self.hub, self.folder)
        return self._book

    def workerpool_drive(
        self, behaviours=None, *, stream=None, runner: str = "process", seed: int | None = None
    ):
        """The workerpool at work: a :class:`iexec_kit.actors.drive.Drive` over a scheduler and one
        worker per worker account (``behaviours``: "honest", "cheater", "colluding", "lazy",
        "crashing", "slow"; honest by default). ``drive.run()`` takes this workerpool's deals to
        the end; ``for event in drive.events()`` shows them live. Starts :attr:`storage`."""
        from iexec_kit.actors.drive import Drive, build_workerpool

        scheduler, _ = build_workerpool(self, behaviours, stream=stream, runner=runner, seed=seed)
        return Drive(scheduler)

    def close(self) -> None:
        """Stop what the sandbox started (result proxy, IPFS daemon, order book); idempotent."""
        if self._storage is not None:
            self._storage.stop()
            self._storage = None
        if self._book is not None:
            self._book.close()
            self._book = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----- participants -------------------------------------------------------------------
    @property
    def participants(self) -> list[Participant]:
        return self.chain.participants

    @property
    def requester(self) -> Participant:
        return self.chain.participant("requester")

    @property
    def app_developer(self) -> Participant:
        return self.chain.participant("app_developer")

    @property
    def dataset_owner(self) -> Participant:
        return self.chain.participant("dataset_owner")

    @property
    def scheduler(self) -> Participant:
        return self.chain.participant("scheduler")

    @property
    def workers(self) -> list[Participant]:
        return self.chain.workers

    # ----- views --------------------------------------------------------------------------
    @property
    def app(self) -> AppInfo:
        """The demo app as registered on chain."""
        return self.hub.app(self.app_address)

    @property
    def workerpool(self) -> WorkerpoolInfo:
        return self.hub.workerpool(self.workerpool_address)

    def account(self, who: Participant | str) -> AccountView:
        p = self.chain.participant(who) if isinstance(who, str) else who
        acct = self.hub.account(p.address)
        return AccountView(
            name=p.name,
            role=p.role,
            address=p.address,
            eth=self.chain.eth_balance(p.address),
            wallet_rlc=self.hub.wallet(p.address),
            stake=acct.stake,
            locked=acct.locked,
        )

    def accounts(self) -> list[AccountView]:
        """Every participant's balances, in role order."""
        return [self.account(p) for p in self.participants]

    def info(self) -> dict:
        """The network as plain data: chain_id, contracts, app, workerpool, accounts."""
        return {
            "chain_id": self.chain.chain_id,
            "chain": self.chain.describe(),
            "contracts": {k: v for k, v in self.deployment.as_dict().items() if k != "modules"}
            | {"modules": dict(self.deployment.modules)},
            "app": self.app.as_dict(),
            "workerpool": self.workerpool.as_dict(),
            "accounts": [a.as_dict() | {"title": ROLE_TITLES[a.role]} for a in self.accounts()],
        }

    # ----- money and time -----------------------------------------------------------------
    def deposit(self, who: Participant | str, amount: int):
        p = self.chain.participant(who) if isinstance(who, str) else who
        return self.hub.deposit(p, amount)

    def withdraw(self, who: Participant | str, amount: int):
        p = self.chain.participant(who) if isinstance(who, str) else who
        return self.hub.withdraw(p, amount)

    def snapshot(self):
        """Remember the whole network's state (see :meth:`revert`)."""
        return self.chain.snapshot()

    def revert(self, snapshot_id) -> None:
        self.chain.revert(snapshot_id)

    def time_travel(self, seconds: int) -> int:
        """Move chain time forward (deadlines are hours of chain time); return the new timestamp."""
        return self.chain.time_travel(seconds)

    def __repr__(self) -> str:
        return (
            f"<Sandbox {self.chain.describe()}, hub {self.deployment.hub}, "
            f"{len(self.workers)} workers, folder {self.folder}>"
        )
