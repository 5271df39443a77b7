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


class MarketApiError(OrderBookError):
    """A request the market API refuses; ``status`` is its HTTP code, the first line of the
    message is the ``error`` of iExec's answer ``{"ok": false, "error": ...}``."""

    status = 500


class MarketValidationError(MarketApiError, ValueError):
    """A malformed request: a wrong chain id, a missing or badly formed field (HTTP 400)."""

    status = 400


class MarketAuthError(MarketApiError, PermissionError):
    """No Authorization, or one that is not a live challenge signed by its address (HTTP 403,
    answered as iExec does: ``invalid authorization``, the details stay in the message)."""

    status = 403


class MarketRefusedError(MarketApiError, ValueError):
    """A well-formed request the market refuses: bad signature, unknown asset, consumed or
    cancelled order, not the signer (HTTP 403, iExec's BusinessError)."""

    status = 403


class MarketNotFoundError(MarketApiError, LookupError):
    """No published order with this hash (HTTP 404)."""

    status = 404
