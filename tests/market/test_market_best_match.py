"""Best match: cheapest compatible orders, then most volume; restrictions, category, trust, tags."""

from __future__ import annotations

import itertools
import random

import pytest
from orderkit import GPU, OTHER, RLC, TEE

from iexec_kit.market import NoMatchingOrderError
from iexec_kit.poco.orders import DatasetOrder
from iexec_kit.protocol.rules import first_failure
from iexec_kit.protocol.tags import Tag


def fits_all(app, pool, request) -> bool:
    """matchOrders' field rules, straight from the protocol's table (the brute force's oracle)."""
    orders = {"app": app, "dataset": DatasetOrder.empty(), "workerpool": pool, "request": request}
    return first_failure(orders) is None


def test_cheapest_then_most_volume(book, orders):
    for price, volume in [(3, 50), (1, 2), (1, 9), (2, 100)]:
        book.publish(orders.pool(workerpoolprice=price * RLC, volume=volume))
    for price, volume in [(4, 1), (2, 3), (2, 8), (9, 99)]:
        book.publish(orders.app(appprice=price * RLC, volume=volume))
    best = book.best_match(orders.request(sign=False, volume=20))
    assert (best.app.price, best.app.remaining) == (2 * RLC, 8)
    assert (best.workerpool.price, best.workerpool.remaining) == (RLC, 9)
    assert best.price == 3 * RLC and best.volume == 8


def test_the_match_is_accepted_on_chain(book, orders, sandbox):
    orders.fund()
    book.publish(orders.app()), book.publish(orders.pool(trust=5))
    req = orders.request(volume=3, trust=5)
    best = book.best_match(req)
    result = sandbox.hub.match_orders(*best.orders(), req)
    assert result.volume == best.volume == 3
    assert result.deal.price_per_task == best.price


def test_restrictions_are_respected(book, orders, sandbox):
    book.publish(orders.pool(workerpoolprice=1, requesterrestrict=OTHER))  # not for this requester
    book.publish(orders.pool(workerpoolprice=2, apprestrict=OTHER))  # not for this app
    fair = book.publish(orders.pool(workerpoolprice=3, requesterrestrict=sandbox.requester.address))
    book.publish(orders.app(appprice=1, workerpoolrestrict=OTHER))  # not with this pool
    book.publish(orders.app(appprice=2, requesterrestrict=OTHER))
    app = book.publish(orders.app(appprice=3))
    best = book.best_match(orders.request(sign=False))
    assert (best.app.hash, best.workerpool.hash) == (app.hash, fair.hash)
    with pytest.raises(NoMatchingOrderError, match="no app order"):
        book.best_match(orders.request(sign=False, app=OTHER))
    with pytest.raises(NoMatchingOrderError):
        book.best_match(orders.request(sign=False, workerpool=OTHER))


def test_category_and_trust(book, orders):
    book.publish(orders.app())
    book.publish(orders.pool(workerpoolprice=1, category=1, trust=100))
    book.publish(orders.pool(workerpoolprice=2, category=0, trust=1))
    five = book.publish(orders.pool(workerpoolprice=3, category=0, trust=5))
    assert book.best_match(orders.request(sign=False, trust=4)).workerpool.hash == five.hash
    assert book.best_match(orders.request(sign=False, category=1, trust=4)).workerpool.price == 1
    with pytest.raises(NoMatchingOrderError, match="trust 6"):
        book.best_match(orders.request(sign=False, trust=6))
    with pytest.raises(NoMatchingOrderError, match="category 2"):
        book.best_match(orders.request(sign=False, category=2))
    with pytest.raises(NoMatchingOrderError, match="does not exist"):
        book.best_match(orders.request(sign=False, category=9))


def test_tags(book, orders):
    plain_app = book.publish(orders.app(appprice=1))
    tee_app = book.publish(orders.app(appprice=5, tag=TEE))
    book.publish(orders.pool(workerpoolprice=1))
    gpu = book.publish(orders.pool(workerpoolprice=2, tag=GPU))
    tee = book.publish(orders.pool(workerpoolprice=3, tag=(Tag.TEE | Tag.GPU).to_bytes32()))
    best = book.best_match(orders.request(sign=False, tag=GPU))
    assert (best.app.hash, best.workerpool.hash) == (plain_app.hash, gpu.hash)
    best = book.best_match(orders.request(sign=False, tag=TEE))  # TEE asks a TEE app and a TEE pool
    assert (best.app.hash, best.workerpool.hash) == (tee_app.hash, tee.hash)


def test_price_limits_say_what_to_raise(book, orders):
    book.publish(orders.app(appprice=5 * RLC)), book.publish(orders.pool(workerpoolprice=RLC))
    with pytest.raises(NoMatchingOrderError, match="raise your app max price to 5 RLC"):
        book.best_match(orders.request(sign=False, appmaxprice=RLC))
    with pytest.raises(NoMatchingOrderError, match="raise your workerpool max price to 1 RLC"):
        book.best_match(orders.request(sign=False, workerpoolmaxprice=1))


def test_orders_consumed_elsewhere_are_skipped(book, orders, sandbox):
    orders.fund()
    app, cheap = orders.app(volume=100), orders.pool(workerpoolprice=1, volume=4)
    dear = book.publish(orders.pool(workerpoolprice=2, volume=3))
    book.publish(app), book.publish(cheap)
    sandbox.hub.match_orders(app, None, cheap, orders.request(volume=4))  # outside the book
    assert book.best_match(orders.request(sign=False)).workerpool.hash == dear.hash
    assert book.get(cheap.hash(book.domain)).remaining == 0  # the copy was corrected


def test_a_partly_consumed_order_falls_behind(book, orders, sandbox):
    orders.fund()
    app, big = orders.app(volume=100), orders.pool(volume=10)
    other = book.publish(orders.pool(volume=6))
    book.publish(app), book.publish(big)
    sandbox.hub.match_orders(app, None, big, orders.request(volume=5))  # big: 5 left < 6
    assert book.best_match(orders.request(sign=False)).workerpool.hash == other.hash


def test_with_a_dataset(book, orders, sandbox):
    orders.fund()
    address = orders.register_dataset()
    book.publish(orders.app()), book.publish(orders.pool())
    book.publish(orders.dataset(address, datasetprice=RLC, apprestrict=OTHER))
    ds = book.publish(orders.dataset(address, datasetprice=2 * RLC))
    req = orders.request(dataset=address, datasetmaxprice=10 * RLC)
    best = book.best_match(req)
    assert best.dataset.hash == ds.hash and best.price == 8 * RLC
    deal = sandbox.hub.match_orders(*best.orders(), req).deal
    assert deal.dataset.pointer == address and deal.dataset.price == 2 * RLC


def test_agrees_with_brute_force(book, orders, sandbox):
    """Random books: the best match equals the best of every combination matchOrders accepts."""
    rng = random.Random(3)
    owners = [sandbox.requester.address, OTHER, "0x" + "00" * 20]
    apps = [
        orders.app(
            appprice=rng.randint(1, 4),
            volume=rng.randint(1, 9),
            tag=rng.choice([b"\0" * 32, TEE]),
            requesterrestrict=rng.choice(owners),
        )
        for _ in range(8)
    ]
    pools = [
        orders.pool(
            workerpoolprice=rng.randint(1, 4),
            volume=rng.randint(1, 9),
            category=rng.randint(0, 1),
            trust=rng.randint(0, 5),
            tag=rng.choice([b"\0" * 32, GPU, TEE]),
            requesterrestrict=rng.choice(owners),
        )
        for _ in range(12)
    ]
    book.publish_many(apps + pools)
    for _ in range(12):
        req = orders.request(
            sign=False,
            category=rng.randint(0, 1),
            trust=rng.randint(0, 5),
            tag=rng.choice([b"\0" * 32, GPU]),
            appmaxprice=rng.randint(1, 4),
            workerpoolmaxprice=rng.randint(1, 4),
        )
        fits = [
            (a.appprice + p.workerpoolprice, -min(a.volume, p.volume))
            for a, p in itertools.product(apps, pools)
            if fits_all(a, p, req)
        ]
        if not fits:
            with pytest.raises(NoMatchingOrderError):
                book.best_match(req)
            continue
        best = book.best_match(req)
        assert (best.price, -min(best.app.remaining, best.workerpool.remaining)) == min(fits)
        assert fits_all(best.app.order, best.workerpool.order, req)
