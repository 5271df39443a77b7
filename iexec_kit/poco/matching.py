"""matchOrders from Python: an off-chain pre-check that mirrors the contract's checks (same order,
same codes) and says what is wrong with the orders' own numbers, then the transaction.

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
from iexec_kit.messages import MATCH_ORDERS, nrlc
from iexec_kit.poco.deals import Deal
from iexec_kit.poco.orders import (ZERO_ADDRESS, AppOrder, DatasetOrder, Domain, RequestOrder, Tag,
                                   WorkerpoolOrder)


WORKERPOOL_STAKE_RATIO = 30  # % of its price per task the workerpool owner locks (the hub's workerpool_stake_ratio())


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


def _same(a: str, b: str) -> bool:
    return to_checksum_address(a) == to_checksum_address(b)


def _allows(restriction: str, account: str) -> bool:
    return _same(restriction, ZERO_ADDRESS) or _same(restriction, account)


def precheck(hub, app: AppOrder, dataset: DatasetOrder, pool: WorkerpoolOrder, request: RequestOrder) -> None:
    """Raise :class:`OrdersMismatchError` for the first check matchOrders would fail, in PoCo's order."""
    def fail(code: str, detail: str):
        what, todo = MATCH_ORDERS[code]
        raise OrdersMismatchError(f"matchOrders would refuse (0x{code[2:]}): {detail}", code=code,
                                  got=what, hint=todo)

    tag = Tag.parse(app.tag) | Tag.parse(dataset.tag) | Tag.parse(request.tag)
    ncat = hub.chain.call(hub.fn.countCategory())
    if request.category != pool.category:
        fail("0x00", f"the request asks for category {request.category}, the workerpool order sells category {pool.category}")
    if request.category >= ncat:
        fail("0x01", f"category {request.category} does not exist (this hub has categories 0 to {ncat - 1})")
    if request.trust > pool.trust:
        fail("0x02", f"the request asks for trust {request.trust}, the workerpool order offers at most {pool.trust}")
    if request.appmaxprice < app.appprice:
        fail("0x03", f"your app max price {nrlc(request.appmaxprice)} is below the app order's price {nrlc(app.appprice)}")
    if request.datasetmaxprice < dataset.datasetprice:
        fail("0x04", f"your dataset max price {nrlc(request.datasetmaxprice)} is below the dataset order's price "
                     f"{nrlc(dataset.datasetprice)}")
    if request.workerpoolmaxprice < pool.workerpoolprice:
        fail("0x05", f"your workerpool max price {nrlc(request.workerpoolmaxprice)} is below the workerpool order's "
                     f"price {nrlc(pool.workerpoolprice)}")
    missing = Tag(int(tag) & ~int(Tag.parse(pool.tag)))
    if missing:
        fail("0x06", f"the workerpool order does not offer {missing!s} (asked: {tag!s}, offered: {Tag.parse(pool.tag)!s})")
    if (int(tag) ^ int(Tag.parse(app.tag))) & 1:
        fail("0x07", "the dataset or the request asks for TEE, but the app order is not tagged TEE")
    if not _same(request.app, app.app):
        fail("0x10", f"the request is for app {request.app}, the app order sells {app.app}")
    if not _same(request.dataset, dataset.dataset):
        fail("0x11", f"the request is for dataset {request.dataset}, the dataset order sells {dataset.dataset}")
    restrictions = [
        ("0x12", request.workerpool, pool.workerpool, "the request only accepts workerpool"),
        ("0x13", app.datasetrestrict, dataset.dataset, "the app order only accepts dataset"),
        ("0x14", app.workerpoolrestrict, pool.workerpool, "the app order only accepts workerpool"),
        ("0x15", app.requesterrestrict, request.requester, "the app order only accepts requester"),
        ("0x16", dataset.apprestrict, app.app, "the dataset order only accepts app"),
        ("0x17", dataset.workerpoolrestrict, pool.workerpool, "the dataset order only accepts workerpool"),
        ("0x18", dataset.requesterrestrict, request.requester, "the dataset order only accepts requester"),
        ("0x19", pool.apprestrict, app.app, "the workerpool order only accepts app"),
        ("0x1a", pool.datasetrestrict, dataset.dataset, "the workerpool order only accepts dataset"),
        ("0x1b", pool.requesterrestrict, request.requester, "the workerpool order only accepts requester"),
    ]
    for code, restriction, account, phrase in restrictions:
        if not _allows(restriction, account):
            fail(code, f"{phrase} {restriction}, not {account}")

    domain = hub.domain()
    _check_signed(hub, fail, "0x20", "0x21", hub.appregistry, app, domain, "app")
    if not _same(dataset.dataset, ZERO_ADDRESS):
        _check_signed(hub, fail, "0x30", "0x31", hub.datasetregistry, dataset, domain, "dataset")
    _check_signed(hub, fail, "0x40", "0x41", hub.workerpoolregistry, pool, domain, "workerpool")
    req_hash = request.hash(domain)
    if not hub.chain.call(hub.fn.verifyPresignatureOrSignature(request.requester, req_hash, request.sign)):
        who = request.signer(domain)
        fail("0x50", f"the request order is signed by {who or 'nobody'}, not by its requester {request.requester}"
                     + (" (was a field changed after signing?)" if who else ""))

    left = {"app": hub.remaining(app), "workerpool": hub.remaining(pool), "request": hub.remaining(request)}
    if not _same(dataset.dataset, ZERO_ADDRESS):
        left["dataset"] = hub.remaining(dataset)
    if min(left.values()) == 0:
        fail("0x60", "nothing left to match: remaining volumes " + ", ".join(f"{k} {v}" for k, v in left.items())
             + " (an order at 0 was consumed or cancelled)")


def _check_signed(hub, fail, code_registered, code_signed, registry, order, domain, kind):
    asset = order.asset
    if not hub.chain.call(registry.functions.isRegistered(to_checksum_address(asset))):
        fail(code_registered, f"{kind} {asset} is not registered in the {kind} registry")
    owner = hub.asset_owner(asset)
    if not hub.chain.call(hub.fn.verifyPresignatureOrSignature(owner, order.hash(domain), order.sign)):
        who = order.signer(domain)
        fail(code_signed, f"the {kind} order is signed by {who or 'nobody'}, not by the {kind}'s owner {owner}"
                          + (" (was a field changed after signing?)" if who else ""))


def check_funds(hub, app: AppOrder, dataset: DatasetOrder, pool: WorkerpoolOrder, request: RequestOrder) -> int:
    """The volume that would be matched; raise InsufficientFundsError when the requester's or the
    workerpool owner's free stake cannot cover the locks."""
    volume = min(hub.remaining(app), hub.remaining(pool), hub.remaining(request),
                 *([hub.remaining(dataset)] if not _same(dataset.dataset, ZERO_ADDRESS) else []))
    price = app.appprice + (dataset.datasetprice if not _same(dataset.dataset, ZERO_ADDRESS) else 0) + pool.workerpoolprice
    need = price * volume
    have = hub.account(request.requester).stake
    if have < need:
        raise InsufficientFundsError(
            f"the requester's stake cannot pay for this deal: {volume} task(s) x {nrlc(price)} = {nrlc(need)}",
            expected=f"a free stake of at least {nrlc(need)} on the hub",
            got=f"{nrlc(have)} (missing {nrlc(need - have)})",
            hint=f"deposit {nrlc(need - have)} more (sandbox.deposit(requester, {need - have})) before matching",
        )
    pool_owner = hub.asset_owner(pool.workerpool)
    pool_need = pool.workerpoolprice * WORKERPOOL_STAKE_RATIO // 100 * volume
    pool_have = hub.account(pool_owner).stake
    if pool_have < pool_need:
        raise InsufficientFundsError(
            f"the workerpool's owner must stake {WORKERPOOL_STAKE_RATIO}% of its price per task: {nrlc(pool_need)}",
            expected=f"a free stake of at least {nrlc(pool_need)}", got=f"{nrlc(pool_have)} (missing {nrlc(pool_need - pool_have)})",
            hint="the workerpool manager deposits RLC before its orders can be matched",
        )
    return volume


def match_orders(hub, app: AppOrder, dataset: DatasetOrder | None, pool: WorkerpoolOrder, request: RequestOrder,
                 sender: Participant, *, precheck_first: bool = True) -> MatchResult:
    """Check, then send matchOrders as ``sender``; return the deal."""
    dataset = dataset or DatasetOrder.empty()
    if precheck_first:
        precheck(hub, app, dataset, pool, request)
        check_funds(hub, app, dataset, pool, request)
    receipt = hub.chain.transact(
        hub.fn.matchOrders(app.as_tuple(), dataset.as_tuple(), pool.as_tuple(), request.as_tuple()), sender)
    matched = hub.contract.events.OrdersMatched().process_receipt(receipt.raw, errors=_discard())
    if not matched:
        raise IexecKitError("matchOrders succeeded but emitted no OrdersMatched event", hint="this is a kit bug: report it")
    ev = matched[0]["args"]
    dealid = "0x" + bytes(ev["dealid"]).hex()
    return MatchResult(dealid=dealid, volume=ev["volume"], deal=hub.deal(dealid), receipt=receipt)


def _discard():
    from web3.logs import DISCARD

    return DISCARD


__all__ = ["OrdersMismatchError", "MatchResult", "precheck", "check_funds", "match_orders", "Domain",
           "artifacts"]
