"""Step 0 and step 1 end to end: providers publish, the requester buys, a deal locks the funds."""

from __future__ import annotations

import random

import pytest

from iexec_kit.actors.requester import buy_execution, quote_execution
from iexec_kit.errors import InsufficientFundsError
from iexec_kit.market import (
    NoMatchingOrderError,
    OrderBook,
    publish_app_order,
    publish_dataset_order,
    publish_workerpool_order,
)
from iexec_kit.poco.orders import RequestParams
from iexec_kit.protocol.units import RLC

PARAMS = RequestParams(args="--style cartoon in.png", input_files=("http://localhost/in.png",))


@pytest.fixture
def market(sandbox, tmp_path):
    """Step 0: the app developer and the scheduler publish their orders in a book file."""
    hub, rng = sandbox.hub, random.Random(11)
    book = OrderBook(hub, tmp_path)
    app = publish_app_order(
        hub, book, sandbox.app_developer, sandbox.app_address, price=3 * RLC, volume=10, rng=rng
    )
    publish_app_order(
        hub, book, sandbox.app_developer, sandbox.app_address, price=4 * RLC, volume=50, rng=rng
    )
    pool = publish_workerpool_order(
        hub,
        book,
        sandbox.scheduler,
        sandbox.workerpool_address,
        price=2 * RLC,
        volume=5,
        category=0,
        trust=1,
        rng=rng,
    )
    publish_workerpool_order(
        hub,
        book,
        sandbox.scheduler,
        sandbox.workerpool_address,
        price=RLC // 2,
        volume=5,
        category=1,
        trust=1,
        rng=rng,
    )  # cheaper, but category 1
    sandbox.deposit(sandbox.scheduler, 50 * RLC)
    yield book, app, pool
    book.close()


def test_step0_and_step1_end_to_end(sandbox, market):
    book, app, pool = market
    hub, requester, scheduler = sandbox.hub, sandbox.requester, sandbox.scheduler
    assert book.count("app") == 2 and book.count("workerpool") == 2
    sandbox.deposit(requester, 100 * RLC)

    result = buy_execution(
        hub,
        book,
        requester,
        sandbox.app_address,
        params=PARAMS,
        volume=3,
        trust=1,
        category=0,
        rng=random.Random(5),
    )

    deal = hub.deal(result.dealid)
    assert deal == result.deal and deal.exists
    assert (deal.app.pointer, deal.app.owner, deal.app.price) == (
        sandbox.app_address,
        sandbox.app_developer.address,
        3 * RLC,
    )
    assert (deal.workerpool.pointer, deal.workerpool.owner, deal.workerpool.price) == (
        sandbox.workerpool_address,
        scheduler.address,
        2 * RLC,
    )
    assert deal.dataset.price == 0 and deal.category == 0 and deal.trust == 1
    assert (deal.requester, deal.beneficiary) == (requester.address, requester.address)
    assert (
        deal.request_params() == PARAMS
        and deal.bot_first == 0
        and deal.bot_size == result.volume == 3
    )
    assert deal.worker_stake == 2 * RLC * 30 // 100
    # locks: the requester pays (3 + 2) x 3; the workerpool owner stakes 30% of its price per task
    assert hub.account(requester.address).locked == 15 * RLC
    assert hub.account(requester.address).stake == 85 * RLC
    assert hub.account(scheduler.address).locked == 3 * (2 * RLC * 30 // 100)
    # volumes: the book reads what is left from the chain
    assert book.remaining(app.hash) == 7 and book.remaining(pool.hash) == 2
    assert hub.consumed(app.order) == 3


def test_volume_is_capped_by_the_orders(sandbox, market):
    book, _, pool = market
    sandbox.deposit(sandbox.requester, 100 * RLC)
    result = buy_execution(
        sandbox.hub,
        book,
        sandbox.requester,
        sandbox.app_address,
        params=PARAMS,
        volume=8,
        trust=1,
        rng=random.Random(1),
    )
    assert result.volume == 5 and book.remaining(pool.hash) == 0
    with pytest.raises(NoMatchingOrderError, match="no workerpool order in category 0"):
        buy_execution(sandbox.hub, book, sandbox.requester, sandbox.app_address, params=PARAMS)


def test_too_little_stake_says_whats_missing_and_signs_nothing(sandbox, market, monkeypatch):
    book, app, _ = market
    hub, requester = sandbox.hub, sandbox.requester
    sandbox.deposit(requester, 4 * RLC)
    signed = []
    real_sign = hub.sign_order
    monkeypatch.setattr(
        hub, "sign_order", lambda order, who: signed.append(order) or real_sign(order, who)
    )
    block = sandbox.chain.block_number()
    with pytest.raises(InsufficientFundsError) as exc:
        buy_execution(
            hub, book, requester, sandbox.app_address, params=PARAMS, volume=2, rng=random.Random(2)
        )
    text = str(exc.value)
    assert "2 x 5 RLC = 10 RLC" in text and "missing 6 RLC" in text
    assert "deposit(requester, 6000000000)" in text
    assert signed == [] and sandbox.chain.block_number() == block
    assert hub.account(requester.address) == hub.account(requester.address).__class__(
        stake=4 * RLC, locked=0
    )
    assert book.remaining(app.hash) == 10


def test_max_prices_and_a_quote(sandbox, market):
    book, _, _ = market
    hub = sandbox.hub
    with pytest.raises(NoMatchingOrderError, match="raise your app max price to 3 RLC"):
        quote_execution(hub, book, sandbox.requester, sandbox.app_address, app_max_price=RLC)
    q = quote_execution(
        hub, book, sandbox.requester, sandbox.app_address, app_max_price=10 * RLC, volume=2
    )
    assert q.request.appmaxprice == 10 * RLC and q.request.workerpoolmaxprice == 2 * RLC
    assert q.total == 10 * RLC and q.request.sign == b""
    sandbox.deposit(sandbox.requester, 10 * RLC)
    deal = buy_execution(
        hub, book, sandbox.requester, sandbox.app_address, app_max_price=10 * RLC, volume=2
    ).deal
    assert deal.app.price == 3 * RLC  # the deal takes the order's price, not the max
    assert hub.account(sandbox.requester.address).locked == 10 * RLC


def test_same_seed_same_deal(sandbox, market):
    book, _, _ = market
    sandbox.deposit(sandbox.requester, 20 * RLC)
    snap = sandbox.snapshot()
    first = buy_execution(
        sandbox.hub, book, sandbox.requester, sandbox.app_address, rng=random.Random(9)
    ).dealid
    sandbox.revert(snap)
    fresh = OrderBook(sandbox.hub)  # the chain went back: a book that saw the deal would be stale
    fresh.publish_many(
        e.order for kind in ("app", "workerpool") for e in book.list(kind, live=False)
    )
    again = buy_execution(
        sandbox.hub, fresh, sandbox.requester, sandbox.app_address, rng=random.Random(9)
    ).dealid
    assert first == again


def test_with_a_dataset_and_beneficiary(sandbox, market):
    book, _, _ = market
    hub = sandbox.hub
    dataset = hub.create_dataset(sandbox.dataset_owner, "faces", "/ipfs/QmFaces", b"\x07" * 32)
    publish_dataset_order(
        hub, book, sandbox.dataset_owner, dataset, price=RLC, volume=3, rng=random.Random(4)
    )
    sandbox.deposit(sandbox.requester, 20 * RLC)
    other = sandbox.workers[0].address
    deal = buy_execution(
        hub, book, sandbox.requester, sandbox.app_address, dataset=dataset, beneficiary=other
    ).deal
    assert (deal.dataset.pointer, deal.dataset.price, deal.beneficiary) == (dataset, RLC, other)
    assert deal.price_per_task == 6 * RLC
