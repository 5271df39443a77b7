"""Order book fixtures: a fresh book per test over the session sandbox, and signed orders."""

from __future__ import annotations

import pytest
from orderkit import Orders

from iexec_kit.market import OrderBook


@pytest.fixture
def orders(sandbox):
    return Orders(sandbox)


@pytest.fixture
def book(sandbox):
    b = OrderBook(sandbox.hub)
    yield b
    b.close()
