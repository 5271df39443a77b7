"""The book after an asset changes hands: orders are checked against the owner now."""

from __future__ import annotations

import pytest
from orderkit import RLC

from iexec_kit.market import InvalidSignatureError


def test_orders_of_a_previous_owner_are_refused_and_skipped(book, orders, sandbox):
    hub, old, new = sandbox.hub, sandbox.app_developer, sandbox.dataset_owner
    orders.fund()
    book.publish(orders.pool(trust=5))
    cheap = book.publish(orders.app(appprice=1 * RLC))
    req = orders.request(volume=1, trust=5, appmaxprice=5 * RLC)
    assert book.best_match(req).app.hash == cheap.hash

    hub.transfer_app(sandbox.app_address, old, new.address)
    with pytest.raises(InvalidSignatureError, match="not signed by its owner"):
        book.publish(orders.app(appprice=2 * RLC))  # signed by the previous owner
    assert book.refresh(cheap).remaining == 0  # its signer no longer owns the app
    fresh = book.publish(orders.app(sign_as=new, appprice=4 * RLC))
    best = book.best_match(req)
    assert best.app.hash == fresh.hash
    deal = hub.match_orders(*best.orders(), req).deal
    assert deal.app.owner == new.address

    hub.transfer_app(sandbox.app_address, new, old.address)  # back: the old order lives again
    assert book.refresh(cheap).remaining == 10
