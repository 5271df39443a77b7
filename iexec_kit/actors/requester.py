"""The requester's side of the marketplace, like ``iexec app run`` up to the deal.

:func:`buy_execution` finds the best app and workerpool orders in the book, checks that the
requester's stake pays for them (nothing is signed or sent before), signs the request order and
matches the four orders into a deal on chain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from eth_utils import to_checksum_address

from iexec_kit.chain.accounts import Participant
from iexec_kit.errors import KitValueError
from iexec_kit.market.matcher import BestMatch
from iexec_kit.poco.matching import MatchResult, check_pool_funds, check_requester_funds
from iexec_kit.poco.orders import RequestOrder, RequestParams, new_salt
from iexec_kit.protocol.tags import Tag
from iexec_kit.protocol.units import ZERO_ADDRESS

NO_LIMIT = (
    2**63 - 1
)  # "any price" while searching the book (the signed order carries the real price)


@dataclass(frozen=True)
class Quote:
    """What an execution would cost before anything is signed: the orders chosen, the request
    order to sign, and the requester's total (price per task x volume matched), in nRLC."""

    match: BestMatch
    request: RequestOrder
    volume: int
    total: int

    def check_funds(self, hub, *, name: str = "") -> None:
        """Raise InsufficientFundsError unless the requester and the workerpool's owner can pay
        for this quote (checked before anything is signed)."""
        pool = self.match.workerpool.order
        check_requester_funds(hub, self.request.requester, self.match.price, self.volume, name=name)
        check_pool_funds(hub, pool.workerpool, pool.workerpoolprice, self.volume)


def quote_execution(
    hub,
    book,
    requester: Participant | str,
    app: str,
    *,
    params: RequestParams | str | None = None,
    volume: int = 1,
    trust: int = 0,
    category: int = 0,
    tag=None,
    dataset: str = ZERO_ADDRESS,
    workerpool: str = ZERO_ADDRESS,
    app_max_price: int | None = None,
    dataset_max_price: int | None = None,
    workerpool_max_price: int | None = None,
    beneficiary: str | None = None,
    callback: str = ZERO_ADDRESS,
    rng: random.Random | None = None,
) -> Quote:
    """Find the best orders for this request and build the (unsigned) request order.

    Max prices default to the chosen orders' prices: you pay exactly what the book asks.
    ``workerpool`` restricts the request to one workerpool; ``tag`` asks for features ("tee,gpu").
    """
    address = (
        requester.address if isinstance(requester, Participant) else to_checksum_address(requester)
    )
    if volume < 1:
        raise KitValueError(
            "a request buys at least one task", expected="volume >= 1", got=str(volume)
        )
    if isinstance(params, RequestParams):
        params = params.to_json()
    base = dict(
        app=to_checksum_address(app),
        requester=address,
        dataset=to_checksum_address(dataset),
        workerpool=to_checksum_address(workerpool),
        volume=volume,
        tag=Tag.parse(tag or 0).to_bytes32(),
        category=category,
        trust=trust,
        beneficiary=to_checksum_address(beneficiary or address),
        callback=to_checksum_address(callback),
        params=params or RequestParams().to_json(),
        salt=new_salt(rng),
    )
    search = RequestOrder(
        **base,
        appmaxprice=_limit(app_max_price),
        datasetmaxprice=_limit(dataset_max_price),
        workerpoolmaxprice=_limit(workerpool_max_price),
    )
    best = book.best_match(search)
    request = RequestOrder(
        **base,
        appmaxprice=best.app.price if app_max_price is None else app_max_price,
        datasetmaxprice=(best.dataset.price if best.dataset else 0)
        if dataset_max_price is None
        else dataset_max_price,
        workerpoolmaxprice=best.workerpool.price
        if workerpool_max_price is None
        else workerpool_max_price,
    )
    matched = min(best.volume, volume)
    return Quote(best, request, matched, best.price * matched)


def _limit(price: int | None) -> int:
    return NO_LIMIT if price is None else price


def buy_execution(
    hub,
    book,
    requester: Participant,
    app: str,
    *,
    params: RequestParams | str | None = None,
    volume: int = 1,
    trust: int = 0,
    category: int = 0,
    tag=None,
    dataset: str = ZERO_ADDRESS,
    workerpool: str = ZERO_ADDRESS,
    app_max_price: int | None = None,
    dataset_max_price: int | None = None,
    workerpool_max_price: int | None = None,
    beneficiary: str | None = None,
    callback: str = ZERO_ADDRESS,
    rng: random.Random | None = None,
) -> MatchResult:
    """Buy ``volume`` executions of ``app``: best orders from the book, a signed request order,
    matchOrders. Returns the :class:`MatchResult` (``.deal`` is the deal as recorded on chain).

    The requester's free stake is checked first: with too little, :class:`InsufficientFundsError`
    says how much is missing and how to deposit, and nothing has been signed or sent.
    """
    quote = quote_execution(
        hub,
        book,
        requester,
        app,
        params=params,
        volume=volume,
        trust=trust,
        category=category,
        tag=tag,
        dataset=dataset,
        workerpool=workerpool,
        app_max_price=app_max_price,
        dataset_max_price=dataset_max_price,
        workerpool_max_price=workerpool_max_price,
        beneficiary=beneficiary,
        callback=callback,
        rng=rng,
    )
    app_order, dataset_order, pool_order = quote.match.orders()
    quote.check_funds(hub, name=requester.name)
    request = hub.sign_order(quote.request, requester)
    return hub.match_orders(app_order, dataset_order, pool_order, request, sender=requester)
