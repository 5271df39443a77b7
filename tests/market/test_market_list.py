"""Listing: filters like iExec's market API, pages, order, and volumes read from the chain."""

from __future__ import annotations

import pytest
from orderkit import GPU, OTHER, RLC, TEE

from iexec_kit.errors import KitValueError
from iexec_kit.protocol.tags import Tag


def test_filters(book, orders, sandbox):
    app_pool = sandbox.workerpool_address
    book.publish(orders.app())
    book.publish(orders.app(workerpoolrestrict=OTHER, appprice=RLC))
    book.publish(orders.app(requesterrestrict=sandbox.requester.address, appprice=2 * RLC))
    book.publish(orders.pool(category=0, trust=1))
    book.publish(orders.pool(category=1, trust=5, tag=GPU))
    book.publish(orders.pool(category=1, trust=9, tag=(Tag.GPU | Tag.TEE).to_bytes32()))
    book.publish(orders.request())

    assert book.list("app", app=sandbox.app_address).count == 3
    assert book.list("app", app=OTHER).count == 0
    assert book.list("app", workerpool=app_pool).count == 2  # the one restricted to OTHER is out
    assert book.list("app", requester=OTHER).count == 2  # the one for the requester only is out
    assert book.list("app", requester=sandbox.requester.address).count == 3
    assert book.list("workerpool", category=1).count == 2
    assert book.list("workerpool", min_trust=5).count == 2
    assert book.list("workerpool", tag="gpu").count == 2
    assert book.list("workerpool", tag="gpu,tee").count == 1
    assert book.list("workerpool", tag=TEE, category=0).count == 0
    assert book.list("workerpool", workerpool=app_pool, app=sandbox.app_address).count == 3
    assert book.list("request", requester=sandbox.requester.address).count == 1
    assert book.list("request", requester=OTHER).count == 0
    assert book.list("workerpool", owner=sandbox.scheduler.address).count == 3
    with pytest.raises(KitValueError, match="app orders have no category"):
        book.list("app", category=0)
    with pytest.raises(KitValueError, match="unknown order kind"):
        book.list("apps")


def test_pages_cheapest_then_most_volume(book, orders):
    prices = [5, 3, 3, 1, 4, 2, 3]
    volumes = [1, 2, 7, 1, 1, 1, 4]
    for p, v in zip(prices, volumes):
        book.publish(orders.pool(workerpoolprice=p * RLC, volume=v))
    seen, offset = [], 0
    while offset is not None:
        page = book.list("workerpool", limit=3, offset=offset, live=False)
        assert page.count == 7 and len(page) <= 3
        seen += [(e.price // RLC, e.remaining) for e in page]
        offset = page.next_offset
    assert seen == [(1, 1), (2, 1), (3, 7), (3, 4), (3, 2), (4, 1), (5, 1)]
    with pytest.raises(KitValueError):
        book.list("workerpool", limit=0)


def test_remaining_comes_from_the_chain(book, orders, sandbox):
    orders.fund()
    app, pool = orders.app(volume=3), orders.pool(volume=2)
    book.publish(app), book.publish(pool)
    sandbox.hub.match_orders(app, None, pool, orders.request(volume=2))
    assert book.get(pool.hash(book.domain)).remaining == 2  # the copy, as last seen
    assert book.remaining(app) == 1 and book.remaining(pool.hash(book.domain)) == 0
    assert book.list("workerpool").count == 0  # empty orders leave the lists
    assert book.list("workerpool", include_empty=True).entries[0].remaining == 0
    [a] = book.list("app", live=True).entries
    assert a.remaining == 1
