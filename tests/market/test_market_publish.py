"""Publishing: signatures checked against the owner on chain, dead orders refused, duplicates
harmless."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest
from orderkit import OTHER, RLC

from iexec_kit.market import (
    AssetNotRegisteredError,
    InvalidSignatureError,
    OrderBook,
    OrderBookMismatchError,
    OrderNotLiveError,
)
from iexec_kit.poco.orders import DatasetOrder


def test_publish_each_kind_and_read_it_back(book, orders, sandbox):
    app, pool, req = orders.app(), orders.pool(), orders.request()
    ea, ep, er = book.publish(app), book.publish(pool), book.publish(req)
    assert (ea.kind, ep.kind, er.kind) == ("app", "workerpool", "request")
    assert ea.owner == sandbox.app_developer.address and ep.owner == sandbox.scheduler.address
    assert er.owner == sandbox.requester.address
    assert ea.order == app and ea.remaining == 10 and ea.hash == "0x" + app.hash(book.domain).hex()
    assert book.get(ea.hash) == ea and app in book and len(book) == 3
    assert ea.as_dict()["order"] == app.as_dict()


def test_duplicates_are_idempotent(book, orders):
    app = orders.app()
    first = book.publish(app)
    assert book.publish(app) == first
    assert book.publish(replace(app)) == first
    assert book.count("app") == 1


def test_a_file_book_is_shared_and_refuses_another_network(sandbox, orders, tmp_path):
    b1 = OrderBook(sandbox.hub, tmp_path)
    e = b1.publish(orders.app())
    b2 = OrderBook(sandbox.hub, tmp_path / "orderbook.sqlite3")
    assert b2.get(e.hash) == e
    b1.close(), b2.close()
    with sqlite3.connect(tmp_path / "orderbook.sqlite3") as c:
        c.execute("UPDATE meta SET value = '12345' WHERE key = 'chain_id'")
    with pytest.raises(OrderBookMismatchError, match="another network"):
        OrderBook(sandbox.hub, tmp_path)


def test_a_malformed_signature_is_refused(book, orders):
    with pytest.raises(InvalidSignatureError, match="malformed"):
        book.publish(replace(orders.app(), sign=b"\x01" * 30))
    with pytest.raises(InvalidSignatureError, match="no signature"):
        book.publish(replace(orders.app(), sign=b""))
    assert len(book) == 0


def test_a_field_changed_after_signing_is_refused(book, orders, sandbox):
    tampered = replace(orders.app(), appprice=1)
    with pytest.raises(InvalidSignatureError, match="changed after signing") as exc:
        book.publish(tampered)
    assert sandbox.app_developer.address in str(exc.value)
    tampered_pool = replace(orders.pool(), trust=100)
    with pytest.raises(InvalidSignatureError):
        book.publish(tampered_pool)
    assert len(book) == 0


def test_a_signature_by_someone_else_is_refused(book, orders, sandbox):
    with pytest.raises(InvalidSignatureError) as exc:
        book.publish(orders.app(sign_as=sandbox.requester))
    assert f"a signature by {sandbox.requester.address}" in str(exc.value)
    assert f"a signature by {sandbox.app_developer.address}" in str(exc.value)
    req = orders.request()
    forged = req.signed(
        sandbox.app_developer.key, book.domain
    )  # the requester's order signed by another key
    with pytest.raises(InvalidSignatureError):
        book.publish(forged)


def test_a_cancelled_order_is_refused(book, orders, sandbox):
    app = orders.app()
    sandbox.hub.cancel_order(app, sandbox.app_developer)
    with pytest.raises(OrderNotLiveError, match="cancelled"):
        book.publish(app)
    assert len(book) == 0


def test_a_consumed_order_is_refused(book, orders, sandbox):
    orders.fund()
    app, pool = orders.app(volume=1), orders.pool(volume=5)
    sandbox.hub.match_orders(app, None, pool, orders.request(volume=1))
    with pytest.raises(OrderNotLiveError, match="consumed") as exc:
        book.publish(app)
    assert "remaining volume 0 of 1" in str(exc.value)
    assert book.publish(pool).remaining == 4


def test_an_unregistered_asset_is_refused(book, orders):
    with pytest.raises(AssetNotRegisteredError, match="registry does not know"):
        book.publish(orders.app(app=OTHER))


def test_a_presigned_order_needs_no_signature(book, orders, sandbox):
    app = replace(orders.app(), sign=b"")
    sandbox.hub.manage_order(app, 0, sandbox.app_developer)
    assert book.publish(app).owner == sandbox.app_developer.address


def test_a_dataset_order(book, orders, sandbox):
    address = orders.register_dataset()
    e = book.publish(orders.dataset(address))
    assert e.kind == "dataset" and e.price == 2 * RLC
    assert isinstance(e.order, DatasetOrder)
    with pytest.raises(InvalidSignatureError):
        book.publish(orders.dataset(address, sign_as=sandbox.app_developer))


def test_only_orders_are_published(book):
    with pytest.raises(ValueError, match="only orders"):
        book.publish({"app": OTHER})
