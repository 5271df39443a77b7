"""matchOrders (and sponsorMatchOrders) from Python: an off-chain pre-check that mirrors the
contract's checks (same order, same codes) and says what is wrong with the orders' own numbers,
then the transaction.

The pre-check is a courtesy, not a guard: the contract checks everything again, and a revert is
translated to words too (``precheck=False`` sends without it, which the tests use to prove
every on-chain code).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from iexec_kit.chain import artifacts
from iexec_kit.chain.accounts import Participant
from iexec_kit.chain.node import Receipt
from iexec_kit.errors import IexecKitError, InsufficientFundsError
from iexec_kit.poco.deals import Deal
from iexec_kit.poco.orders import AppOrder, DatasetOrder, Domain, RequestOrder, WorkerpoolOrder
from iexec_kit.protocol.rules import MEANINGS, RULES
from iexec_kit.protocol.units import RLC, is_zero_address, nrlc


class OrdersMismatchError(IexecKitError, ValueError):
    """Four orders that matchOrders would refuse; ``code`` is PoCo's (e.g. "0x03")."""

    def __init__(self, message: str, *, code: str, **kw):
        self.code = code
        super().__init__(message, **kw)


@dataclass(frozen=True)
class MatchResult:
    """What matchOrders produced: the deal's id and volume, its view, and the receipt."""

    dealid: str
    volume: int
    deal: Deal
    receipt: Receipt


def _orders(app, dataset, pool, request) -> dict:
    return {"app": app, "dataset": dataset, "workerpool": pool, "request": request}


def precheck(
    hub, app: AppOrder, dataset: DatasetOrder, pool: WorkerpoolOrder, request: RequestOrder
) -> None:
    """Raise :class:`OrdersMismatchError` for the first check matchOrders would fail, in PoCo's
    order: the rules of :data:`iexec_kit.protocol.rules.RULES`, then what needs the chain."""

    def fail(code: str, detail: str):
        what, todo = MEANINGS[code]
        raise OrdersMismatchError(
            f"matchOrders would refuse ({code}): {detail}", code=code, got=what, hint=todo
        )

    orders = _orders(app, dataset, pool, request)
    ncat = hub.chain.call(hub.fn.countCategory())
    for rule in RULES:
        if not rule.holds(orders):
            fail(rule.code, rule.detail(orders))
        if rule.code == "0x00" and request.category >= ncat:  # 0x01 comes right after 0x00
            fail(
                "0x01",
                f"category {request.category} does not exist "
                f"(this hub has categories 0 to {ncat - 1})",
            )

    domain = hub.domain()
    _check_signed(hub, fail, "0x20", "0x21", hub.appregistry, app, domain, "app")
    if not is_zero_address(dataset.dataset):
        _check_signed(hub, fail, "0x30", "0x31", hub.datasetregistry, dataset, domain, "dataset")
    _check_signed(hub, fail, "0x40", "0x41", hub.workerpoolregistry, pool, domain, "workerpool")
    req_hash = request.hash(domain)
    if not hub.chain.call(
        hub.fn.verifyPresignatureOrSignature(request.requester, req_hash, request.sign)
    ):
        who = request.signer(domain)
        fail(
            "0x50",
            f"the request order is signed by {who or 'nobody'}, "
            f"not by its requester {request.requester}"
            + (" (was a field changed after signing?)" if who else ""),
        )

    left = {
        "app": hub.remaining(app),
        "workerpool": hub.remaining(pool),
        "request": hub.remaining(request),
    }
    if not is_zero_address(dataset.dataset):
        left["dataset"] = hub.remaining(dataset)
    if min(left.values()) == 0:
        fail(
            "0x60",
            "nothing left to match: remaining volumes "
            + ", ".join(f"{k} {v}" for k, v in left.items())
            + " (an order at 0 was consumed or cancelled)",
        )


def _check_signed(hub, fail, code_registered, code_signed, registry, order, domain, kind):
    asset = order.asset
    if not hub.chain.call(registry.functions.isRegistered(to_checksum_address(asset))):
        fail(code_registered, f"{kind} {asset} is not registered in the {kind} registry")
    owner = hub.asset_owner(asset)
    if not hub.chain.call(
        hub.fn.verifyPresignatureOrSignature(owner, order.hash(domain), order.sign)
    ):
        who = order.signer(domain)
        fail(
            code_signed,
            f"the {kind} order is signed by {who or 'nobody'}, not by the {kind}'s owner {owner}"
            + (" (was a field changed after signing?)" if who else ""),
        )


def check_requester_funds(hub, requester: str, price: int, volume: int, *, name: str = "") -> None:
    """Raise :class:`InsufficientFundsError` unless ``requester``'s free stake pays ``volume``
    tasks at ``price`` nRLC each (what matchOrders locks). The one funds check of the kit: the
    pre-check, ``buy_execution`` and the demo all call it before anything is signed."""
    need = price * volume
    have = hub.account(requester).stake
    if have < need:
        missing = need - have
        who = name or f"the requester {requester}"
        raise InsufficientFundsError(
            f"{who} cannot pay for {volume} task(s): {volume} x {nrlc(price)} = {nrlc(need)}; "
            "nothing was signed",
            expected=f"a free stake of at least {nrlc(need)} on the hub",
            got=f"{nrlc(have)} (missing {nrlc(missing)})",
            hint=f"deposit {nrlc(missing)} more first (sandbox.deposit(requester, {missing}), or "
            f"iexec-kit demo --deposit {-(-need // RLC)}); the wallet holds "
            f"{nrlc(hub.wallet(requester))}",
        )


def check_pool_funds(hub, workerpool: str, workerpool_price: int, volume: int) -> None:
    """Raise :class:`InsufficientFundsError` unless the workerpool's owner can lock its stake
    (the hub's workerpool_stake_ratio of its price, per task)."""
    config = hub.config()
    need = config.pool_stake(workerpool_price) * volume
    owner = hub.asset_owner(workerpool)
    have = hub.account(owner).stake
    if have < need:
        raise InsufficientFundsError(
            f"the workerpool's owner must stake {config.workerpool_stake_ratio}% of its price per "
            f"task: {nrlc(need)} for {volume} task(s)",
            expected=f"a free stake of at least {nrlc(need)}",
            got=f"{nrlc(have)} (missing {nrlc(need - have)})",
            hint="the workerpool manager deposits RLC before its orders can be matched",
        )


def check_funds(
    hub,
    app: AppOrder,
    dataset: DatasetOrder,
    pool: WorkerpoolOrder,
    request: RequestOrder,
    *,
    sponsor: str | None = None,
) -> int:
    """The volume that would be matched; raise InsufficientFundsError when the payer's (the
    requester, or ``sponsor``) or the workerpool owner's free stake cannot cover the locks."""
    with_dataset = not is_zero_address(dataset.dataset)
    volume = min(
        hub.remaining(app),
        hub.remaining(pool),
        hub.remaining(request),
        *([hub.remaining(dataset)] if with_dataset else []),
    )
    price = app.appprice + (dataset.datasetprice if with_dataset else 0) + pool.workerpoolprice
    if sponsor is None:
        check_requester_funds(hub, request.requester, price, volume)
    else:
        check_requester_funds(hub, sponsor, price, volume, name=f"the sponsor {sponsor}")
    check_pool_funds(hub, pool.workerpool, pool.workerpoolprice, volume)
    return volume


def match_orders(
    hub,
    app: AppOrder,
    dataset: DatasetOrder | None,
    pool: WorkerpoolOrder,
    request: RequestOrder,
    sender: Participant,
    *,
    precheck_first: bool = True,
) -> MatchResult:
    """Check, then send matchOrders as ``sender``; return the deal. The requester pays: its
    stake is locked (the deal's ``sponsor`` is the requester)."""
    return _match(hub, "matchOrders", app, dataset, pool, request, sender, None, precheck_first)


def sponsor_match_orders(
    hub,
    app: AppOrder,
    dataset: DatasetOrder | None,
    pool: WorkerpoolOrder,
    request: RequestOrder,
    sponsor: Participant,
    *,
    precheck_first: bool = True,
) -> MatchResult:
    """Check, then send sponsorMatchOrders as ``sponsor`` (PoCo v6): the same deal as
    matchOrders, but ``sponsor`` pays. Its stake is locked for the deal, spent by finalize and
    refunded by claim; the requester's stake is not touched. The deal's ``sponsor`` records it."""
    return _match(
        hub, "sponsorMatchOrders", app, dataset, pool, request, sponsor, sponsor, precheck_first
    )


def _match(hub, function, app, dataset, pool, request, sender, sponsor, precheck_first):
    dataset = dataset or DatasetOrder.empty()
    if precheck_first:
        precheck(hub, app, dataset, pool, request)
        check_funds(hub, app, dataset, pool, request, sponsor=sponsor.address if sponsor else None)
    call = getattr(hub.fn, function)
    receipt = hub.chain.transact(
        call(app.as_tuple(), dataset.as_tuple(), pool.as_tuple(), request.as_tuple()),
        sender,
    )
    matched = hub.contract.events.OrdersMatched().process_receipt(receipt.raw, errors=_discard())
    if not matched:
        raise IexecKitError(
            f"{function} succeeded but emitted no OrdersMatched event",
            hint="this is a kit bug: report it",
        )
    ev = matched[0]["args"]
    dealid = "0x" + bytes(ev["dealid"]).hex()
    return MatchResult(dealid=dealid, volume=ev["volume"], deal=hub.deal(dealid), receipt=receipt)


def _discard():
    from web3.logs import DISCARD

    return DISCARD


__all__ = [
    "OrdersMismatchError",
    "MatchResult",
    "precheck",
    "check_funds",
    "check_requester_funds",
    "check_pool_funds",
    "match_orders",
    "sponsor_match_orders",
    "Domain",
    "artifacts",
]
