"""The order book's errors: each says what was expected, what came, and what to do next."""

from __future__ import annotations

from iexec_kit.errors import IexecKitError


class OrderBookError(IexecKitError):
    """Root of the order book's own errors."""


class InvalidSignatureError(OrderBookError, ValueError):
    """An order (or an unpublish request) is not signed by the account that owns it."""


class AssetNotRegisteredError(OrderBookError, ValueError):
    """The order sells an app, dataset or workerpool that its registry does not know."""


class OrderNotLiveError(OrderBookError, ValueError):
    """The order has no volume left on chain: consumed by deals, or cancelled by its owner."""


class NotOrderOwnerError(OrderBookError, PermissionError):
    """Only an order's owner may take it off the book."""


class OrderNotFoundError(OrderBookError, LookupError):
    """No order with this hash is in the book."""


class NoMatchingOrderError(OrderBookError, LookupError):
    """The book holds no order that matchOrders would accept with this request."""


class OrderBookMismatchError(OrderBookError, ValueError):
    """The book's file was made for another hub or chain than the one given."""
