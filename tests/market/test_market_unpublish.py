"""Unpublishing: only the owner, through an EIP-712 authorization with a deadline."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from iexec_kit.market import NotOrderOwnerError, OrderNotFoundError
from iexec_kit.market import unpublish as unpub


def test_the_owner_unpublishes(book, orders, sandbox):
    e = book.publish(orders.app())
    assert book.unpublish(e.hash, by=sandbox.app_developer) == e
    assert len(book) == 0
    with pytest.raises(OrderNotFoundError):
        book.get(e.hash)


def test_someone_else_cannot(book, orders, sandbox):
    e = book.publish(orders.pool())
    with pytest.raises(NotOrderOwnerError, match="only the owner") as exc:
        book.unpublish(e.order, by=sandbox.requester)
    assert sandbox.scheduler.address in str(exc.value)
    assert book.count() == 1


def test_a_wallet_signed_authorization_is_accepted(book, orders, sandbox):
    """The digest is standard EIP-712: a wallet signing the typed data gives a valid
    authorization."""
    e = book.publish(orders.request())
    deadline = int(time.time()) + 60
    message = encode_typed_data(full_message=unpub.typed_data(book.domain, e.hash, deadline))
    sig = Account.sign_message(message, sandbox.requester.key).signature
    book.unpublish(e.hash, signature=bytes(sig), deadline=deadline)
    assert len(book) == 0


def test_an_expired_or_far_deadline_is_refused(book, orders, sandbox):
    e = book.publish(orders.app())
    for deadline in (int(time.time()) - 1, int(time.time()) + 2 * unpub.MAX_VALIDITY):
        sig, _ = unpub.sign(sandbox.app_developer.key, book.domain, e.hash, deadline)
        with pytest.raises(NotOrderOwnerError, match="time window"):
            book.unpublish(e.hash, signature=sig, deadline=deadline)
    assert len(book) == 1


def test_an_authorization_is_for_one_order(book, orders, sandbox):
    a, b = book.publish(orders.app()), book.publish(orders.app())
    sig, deadline = unpub.sign(sandbox.app_developer.key, book.domain, a.hash)
    with pytest.raises(NotOrderOwnerError):
        book.unpublish(b.hash, signature=sig, deadline=deadline)
    with pytest.raises(ValueError, match="authorization"):
        book.unpublish(b.hash)
    book.unpublish(a.hash, signature=sig, deadline=deadline)
    assert [x.hash for x in book.list("app")] == [b.hash]
