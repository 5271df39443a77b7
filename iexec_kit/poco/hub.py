"""Typed calls to the hub and its satellites (RLC token, registries, assets).

Every write checks what it can before sending (a balance, a stake, an owner), so that the
learner reads "you have 2 RLC, the deposit needs 5" rather than a bare revert.
"""

from __future__ import annotations

from eth_utils import to_checksum_address

from iexec_kit.chain import artifacts
from iexec_kit.chain.accounts import Participant
from iexec_kit.chain.deploy import Deployment
from iexec_kit.chain.node import Chain, Receipt
from iexec_kit.errors import InsufficientFundsError, KitValueError
from iexec_kit.poco.tasks import TaskCalls
from iexec_kit.poco.views import AccountInfo, AppInfo, CategoryInfo, DatasetInfo, WorkerpoolInfo
from iexec_kit.protocol.assets import ASSET_KINDS, token_address, token_id
from iexec_kit.protocol.categories import ProtocolConfig
from iexec_kit.protocol.units import nrlc


def _text(b: bytes) -> str:
    try:
        return bytes(b).decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + bytes(b).hex()


class Hub(TaskCalls):
    """The protocol on one chain: ``hub.contract`` is the web3 contract at the hub's address."""

    def __init__(self, chain: Chain, deployment: Deployment):
        self.chain = chain
        self.deployment = deployment
        self.contract = chain.contract(artifacts.hub_abi(), deployment.hub)
        self.rlc = chain.contract(artifacts.abi("RLC"), deployment.rlc)
        # iExec's published PoCo (iexec_kit.chain.published) has its own registries: their ABI
        # has predictApp/predictDataset/predictWorkerpool, which _register uses
        registry_abi = artifacts.abi
        if getattr(deployment, "protocol", "kit") == "poco":
            from iexec_kit.chain import published

            registry_abi = published.abi
        self.appregistry = chain.contract(registry_abi("AppRegistry"), deployment.appregistry)
        self.datasetregistry = chain.contract(
            registry_abi("DatasetRegistry"), deployment.datasetregistry
        )
        self.workerpoolregistry = chain.contract(
            registry_abi("WorkerpoolRegistry"), deployment.workerpoolregistry
        )

    @property
    def address(self) -> str:
        return self.deployment.hub

    @property
    def fn(self):
        """The hub's functions (web3), for calls the typed methods do not cover."""
        return self.contract.functions

    # ----- views --------------------------------------------------------------------------
    def account(self, address: str) -> AccountInfo:
        stake, locked = self.chain.view(self.contract, "viewAccount", to_checksum_address(address))
        return AccountInfo(stake=stake, locked=locked)

    def wallet(self, address: str) -> int:
        """RLC held in the wallet (not deposited), in nRLC."""
        return self.chain.call(self.rlc.functions.balanceOf(to_checksum_address(address)))

    def hub_rlc(self) -> int:
        """RLC held by the hub contract: every deposit, locked or not."""
        return self.wallet(self.address)

    def total_supply(self) -> int:
        return self.chain.call(self.fn.totalSupply())

    def categories(self) -> list[CategoryInfo]:
        n = self.chain.call(self.fn.countCategory())
        return [self.category(i) for i in range(n)]

    def category(self, catid: int) -> CategoryInfo:
        name, description, clock = self.chain.call(self.fn.viewCategory(catid))
        return CategoryInfo(catid, name, description, clock)

    def config(self) -> ProtocolConfig:
        """The protocol's constants as this hub returns them (deadline ratios, stake ratio, kitty);
        read once: they are constants of the deployed code."""
        if getattr(self, "_config", None) is None:
            call = self.chain.call
            self._config = ProtocolConfig(
                **{
                    name: call(getattr(self.fn, name)())
                    for name in (
                        "contribution_deadline_ratio",
                        "reveal_deadline_ratio",
                        "final_deadline_ratio",
                        "workerpool_stake_ratio",
                        "kitty_ratio",
                        "kitty_min",
                    )
                },
                kitty_address=to_checksum_address(call(self.fn.kitty_address())),
            )
        return self._config

    def deadlines(self, deal):
        """A deal's deadlines, from its category's clock and this hub's ratios."""
        return self.config().deadlines(
            deal.start_time, self.category(deal.category).work_clock_time_ref
        )

    # ----- RLC in and out -----------------------------------------------------------------
    def mint(self, to: str, amount: int) -> Receipt:
        """Create RLC for ``to`` (the token owner, i.e. the deployer, signs). Sandbox set-up
        only."""
        return self.chain.transact(
            self.rlc.functions.mint(to_checksum_address(to), amount), self.chain.deployer
        )

    def faucet(self, who: Participant) -> Receipt:
        """Draw the faucet's 100 RLC into ``who``'s wallet (once a day of chain time)."""
        return self.chain.transact(self.rlc.functions.faucet(), who)

    def deposit(self, who: Participant, amount: int) -> Receipt:
        """Move ``amount`` nRLC from ``who``'s wallet to its stake on the hub, in one transaction
        (RLC.approveAndCall -> hub.receiveApproval)."""
        self._positive(amount, "deposit")
        wallet = self.wallet(who.address)
        if wallet < amount:
            raise InsufficientFundsError(
                f"{who.name} cannot deposit {nrlc(amount)}: the wallet holds {nrlc(wallet)}",
                expected=f"a wallet balance of at least {nrlc(amount)}",
                got=f"{nrlc(wallet)} (missing {nrlc(amount - wallet)})",
                hint="draw from the faucet (hub.faucet(who)) or receive RLC, then deposit again",
            )
        return self.chain.transact(
            self.rlc.functions.approveAndCall(self.address, amount, b""), who
        )

    def withdraw(self, who: Participant, amount: int, to: str | None = None) -> Receipt:
        """Move ``amount`` nRLC of free stake back to a wallet (``who``'s, or ``to``)."""
        self._positive(amount, "withdraw")
        acct = self.account(who.address)
        if acct.stake < amount:
            raise InsufficientFundsError(
                f"{who.name} cannot withdraw {nrlc(amount)}: the free stake is {nrlc(acct.stake)}"
                + (
                    f" ({nrlc(acct.locked)} more is locked in running deals)" if acct.locked else ""
                ),
                expected=f"at most {nrlc(acct.stake)}",
                got=nrlc(amount),
                hint="withdraw less; locked RLC comes back when its tasks complete or fail",
            )
        if to is None:
            return self.chain.transact(self.fn.withdraw(amount), who)
        return self.chain.transact(self.fn.withdrawTo(amount, to_checksum_address(to)), who)

    @staticmethod
    def _positive(amount, what: str) -> None:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise KitValueError(
                f"a {what} amount is a positive whole number of nRLC (1 RLC = 1e9 nRLC)",
                expected="an int > 0",
                got=repr(amount),
            )

    # ----- orders and deals (the marketplace) ---------------------------------------------
    def domain(self):
        """The hub's EIP-712 domain (orders are signed for it)."""
        from iexec_kit.poco.orders import Domain

        return Domain(chain_id=self.chain.chain_id, verifying_contract=self.address)

    def order_hash(self, order) -> bytes:
        return order.hash(self.domain())

    def consumed(self, order) -> int:
        """Volume of ``order`` already used by deals (its full volume once cancelled)."""
        return self.chain.call(self.fn.viewConsumed(order.hash(self.domain())))

    def remaining(self, order) -> int:
        """Volume of ``order`` still available to matchOrders."""
        return max(order.volume - self.consumed(order), 0)

    def presigned(self, order) -> str:
        """Who presigned ``order`` on chain (the zero address if nobody)."""
        return self.chain.call(self.fn.viewPresigned(order.hash(self.domain())))

    def asset_owner(self, asset: str) -> str:
        """owner() of an app, dataset or workerpool contract: whoever holds its token in its
        registry now (the asset asks its registry's ownerOf)."""
        c = self.chain.contract(artifacts.abi("App"), asset)
        return self.chain.call(c.functions.owner())

    def order_owner(self, order) -> str:
        """Who must sign ``order``: the asset's owner, or the requester for a request order."""
        from iexec_kit.poco.orders import RequestOrder

        return order.requester if isinstance(order, RequestOrder) else self.asset_owner(order.asset)

    def sign_order(self, order, who: Participant):
        """``order`` signed by ``who`` for this hub's domain."""
        return order.signed(who.key, self.domain())

    def manage_order(self, order, operation: int, who: Participant, sign: bytes = b"") -> Receipt:
        """manageXOrder: operation 0 (SIGN) presigns on chain, 1 (CLOSE) cancels the order.
        ``who`` must be the order's owner unless ``sign`` is the owner's signature of the
        operation."""
        fn = getattr(self.fn, f"manage{order.TYPE_NAME}")
        return self.chain.transact(fn((order.as_tuple(), operation, sign)), who)

    def cancel_order(self, order, who: Participant) -> Receipt:
        """Cancel ``order`` on chain: nothing of it can be matched afterwards."""
        return self.manage_order(order, 1, who)

    def match_orders(
        self,
        app,
        dataset,
        workerpool,
        request,
        sender: Participant | None = None,
        *,
        precheck: bool = True,
    ):
        """matchOrders: four compatible orders become a deal that locks the funds.
        See :func:`iexec_kit.poco.matching.match_orders`."""
        from iexec_kit.poco.matching import match_orders

        sender = sender or self.chain.participant_by_address(request.requester)
        return match_orders(
            self, app, dataset, workerpool, request, sender, precheck_first=precheck
        )

    def sponsor_match_orders(
        self,
        app,
        dataset,
        workerpool,
        request,
        sponsor: Participant,
        *,
        precheck: bool = True,
    ):
        """sponsorMatchOrders: the same deal as matchOrders, but ``sponsor`` (the sender) pays
        the locks and gets claim's refunds.
        See :func:`iexec_kit.poco.matching.sponsor_match_orders`."""
        from iexec_kit.poco.matching import sponsor_match_orders

        return sponsor_match_orders(
            self, app, dataset, workerpool, request, sponsor, precheck_first=precheck
        )

    def recover(self, owner: Participant) -> Receipt:
        """recover (the hub's owner only): RLC sent to the hub by a plain transfer, outside any
        deposit, belongs to no account; this credits it to the owner's stake."""
        return self.chain.transact(self.fn.recover(), owner)

    def deal(self, dealid: str | bytes):
        """The deal recorded by matchOrders (``Deal.exists`` is False for an unknown id)."""
        from iexec_kit.poco.deals import Deal

        raw_id = bytes.fromhex(dealid[2:]) if isinstance(dealid, str) else bytes(dealid)
        return Deal.from_chain(raw_id, self.chain.view(self.contract, "viewDeal", raw_id))

    # ----- registries: ERC-721s whose token ids are the assets' addresses ------------------
    def registry(self, kind: str):
        """The web3 registry contract for ``kind`` ("app", "dataset" or "workerpool")."""
        try:
            return {
                "app": self.appregistry,
                "dataset": self.datasetregistry,
                "workerpool": self.workerpoolregistry,
            }[kind]
        except KeyError:
            raise KitValueError(
                "no such kind of asset", expected=" or ".join(ASSET_KINDS), got=repr(kind)
            ) from None

    def _register(self, kind: str, owner: Participant, args: list) -> str:
        """Create an asset through its registry unless the very same one exists; return its
        address.

        The registry's predictX gives the address first (CREATE2, salt = keccak of the
        initializer and the owner, as PoCo's): creating the same asset twice reverts on chain,
        so an existing one is returned instead."""
        registry = self.registry(kind)
        name = kind.capitalize()
        address = self.chain.call(getattr(registry.functions, f"predict{name}")(*args))
        if not self.chain.call(registry.functions.isRegistered(address)):
            self.chain.transact(getattr(registry.functions, f"create{name}")(*args), owner)
        return to_checksum_address(address)

    def _app_args(self, owner: str, name, multiaddr, checksum, app_type, mrenclave) -> list:
        if len(checksum) != 32:
            raise KitValueError(
                "an app checksum is 32 bytes (a sha256)", got=f"{len(checksum)} bytes"
            )
        return [to_checksum_address(owner), name, app_type, multiaddr.encode(), checksum, mrenclave]

    def create_app(
        self,
        owner: Participant,
        name: str,
        multiaddr: str,
        checksum: bytes,
        app_type: str = "DOCKER",
        mrenclave: bytes = b"",
    ) -> str:
        """Register an app owned by ``owner``; return its address (the existing one if the very
        same app is already registered)."""
        args = self._app_args(owner.address, name, multiaddr, checksum, app_type, mrenclave)
        return self._register("app", owner, args)

    def predict_app(
        self,
        owner: str,
        name: str,
        multiaddr: str,
        checksum: bytes,
        app_type: str = "DOCKER",
        mrenclave: bytes = b"",
    ) -> str:
        """The address create_app gives this app (predictApp; nothing is sent)."""
        args = self._app_args(owner, name, multiaddr, checksum, app_type, mrenclave)
        return to_checksum_address(self.chain.call(self.appregistry.functions.predictApp(*args)))

    def create_dataset(self, owner: Participant, name: str, multiaddr: str, checksum: bytes) -> str:
        """Register a dataset owned by ``owner``; return its address."""
        return self._register("dataset", owner, [owner.address, name, multiaddr.encode(), checksum])

    def predict_dataset(self, owner: str, name: str, multiaddr: str, checksum: bytes) -> str:
        """The address create_dataset gives this dataset (predictDataset)."""
        fn = self.datasetregistry.functions.predictDataset
        owner = to_checksum_address(owner)
        return to_checksum_address(self.chain.call(fn(owner, name, multiaddr.encode(), checksum)))

    def create_workerpool(self, owner: Participant, description: str) -> str:
        """Register a workerpool managed by ``owner``; return its address."""
        return self._register("workerpool", owner, [owner.address, description])

    def predict_workerpool(self, owner: str, description: str) -> str:
        """The address create_workerpool gives this workerpool (predictWorkerpool)."""
        fn = self.workerpoolregistry.functions.predictWorkerpool
        return to_checksum_address(self.chain.call(fn(to_checksum_address(owner), description)))

    def _kind_of_asset(self, asset: str) -> str:
        for kind in ASSET_KINDS:
            if self.chain.call(self.registry(kind).functions.isRegistered(asset)):
                return kind
        raise KitValueError(
            f"{asset} is in none of the hub's registries",
            expected="the address of a registered app, dataset or workerpool",
            got=asset,
            hint="create it first (hub.create_app/create_dataset/create_workerpool)",
        )

    def transfer_asset(self, asset: str, holder: Participant, to: str) -> Receipt:
        """Give ``asset`` (an app, dataset or workerpool) to ``to``: the registry's
        safeTransferFrom(holder, to, asset), sent by its current ``holder``. From then on ``to``
        signs its orders and receives the rewards of the deals matched afterwards (a deal keeps
        the owners it recorded at match time, as PoCo's)."""
        asset = to_checksum_address(asset)
        kind = self._kind_of_asset(asset)
        owner = self.asset_owner(asset)
        if owner != holder.address:
            raise KitValueError(
                f"only the {kind}'s owner may transfer it",
                expected=f"sent by its owner {owner}",
                got=holder.address,
                hint="send it from the owner's account (hub.asset_owner(asset) tells who)",
            )
        fn = self.registry(kind).functions.safeTransferFrom(
            holder.address, to_checksum_address(to), token_id(asset)
        )
        return self.chain.transact(fn, holder)

    def transfer_app(self, app: str, holder: Participant, to: str) -> Receipt:
        """Give an app to ``to`` (see :meth:`transfer_asset`)."""
        return self.transfer_asset(app, holder, to)

    def transfer_dataset(self, dataset: str, holder: Participant, to: str) -> Receipt:
        """Give a dataset to ``to`` (see :meth:`transfer_asset`)."""
        return self.transfer_asset(dataset, holder, to)

    def transfer_workerpool(self, workerpool: str, holder: Participant, to: str) -> Receipt:
        """Give a workerpool to ``to`` (see :meth:`transfer_asset`)."""
        return self.transfer_asset(workerpool, holder, to)

    def count_assets(self, kind: str, owner: str) -> int:
        """How many assets of ``kind`` ``owner`` holds now (the registry's balanceOf)."""
        return self.chain.call(self.registry(kind).functions.balanceOf(to_checksum_address(owner)))

    def assets_of(self, kind: str, owner: str) -> list[str]:
        """The addresses of the assets of ``kind`` that ``owner`` holds now
        (tokenOfOwnerByIndex; the order changes when one is transferred away)."""
        reg, owner = self.registry(kind).functions, to_checksum_address(owner)
        return [
            token_address(self.chain.call(reg.tokenOfOwnerByIndex(owner, i)))
            for i in range(self.count_assets(kind, owner))
        ]

    def apps_of(self, owner: str) -> list[str]:
        """The apps ``owner`` holds now (see :meth:`assets_of`)."""
        return self.assets_of("app", owner)

    def datasets_of(self, owner: str) -> list[str]:
        """The datasets ``owner`` holds now (see :meth:`assets_of`)."""
        return self.assets_of("dataset", owner)

    def workerpools_of(self, owner: str) -> list[str]:
        """The workerpools ``owner`` holds now (see :meth:`assets_of`)."""
        return self.assets_of("workerpool", owner)

    # ----- asset views: PoCo v6's viewApp / viewDataset / viewWorkerpool, one call each -------
    def app(self, address: str) -> AppInfo:
        owner, name, app_type, multiaddr, checksum, mrenclave = self.chain.call(
            self.fn.viewApp(to_checksum_address(address))
        )
        return AppInfo(
            address=to_checksum_address(address),
            owner=owner,
            name=name,
            type=app_type,
            multiaddr=_text(multiaddr),
            checksum="0x" + bytes(checksum).hex(),
            mrenclave=_text(mrenclave),
        )

    def dataset(self, address: str) -> DatasetInfo:
        owner, name, multiaddr, checksum = self.chain.call(
            self.fn.viewDataset(to_checksum_address(address))
        )
        return DatasetInfo(
            address=to_checksum_address(address),
            owner=owner,
            name=name,
            multiaddr=_text(multiaddr),
            checksum="0x" + bytes(checksum).hex(),
        )

    def workerpool(self, address: str) -> WorkerpoolInfo:
        owner, description, stake_ratio, reward_ratio = self.chain.call(
            self.fn.viewWorkerpool(to_checksum_address(address))
        )
        return WorkerpoolInfo(
            address=to_checksum_address(address),
            owner=owner,
            description=description,
            worker_stake_ratio=stake_ratio,
            scheduler_reward_ratio=reward_ratio,
        )

    def change_workerpool_policy(
        self,
        owner: Participant,
        workerpool: str,
        worker_stake_ratio: int,
        scheduler_reward_ratio: int,
    ) -> Receipt:
        c = self.chain.contract(artifacts.abi("Workerpool"), workerpool)
        return self.chain.transact(
            c.functions.changePolicy(worker_stake_ratio, scheduler_reward_ratio), owner
        )
