"""The off-chain marketplace: an order book like iExec's market API, on SQLite.

    book = OrderBook(hub, sandbox.folder)          # or OrderBook(hub) in memory
    publish_app_order(hub, book, developer, app, price=5 * RLC, volume=10)
    book.list("workerpool", category=0, min_trust=1)
    book.best_match(request_order)                  # cheapest compatible orders
    MarketApi(book, hub).start()                    # iExec's market API, for iExec's SDK/CLI

This layer uses iexec_kit.poco, iexec_kit.chain and (the API's HTTP server) iexec_kit.storage.
"""

from iexec_kit.market.api import MarketApi, MarketApiClient
from iexec_kit.market.book import OrderBook, Page
from iexec_kit.market.errors import (
    AssetNotRegisteredError,
    InvalidSignatureError,
    MarketApiError,
    MarketAuthError,
    MarketNotFoundError,
    MarketRefusedError,
    MarketValidationError,
    NoMatchingOrderError,
    NotOrderOwnerError,
    OrderBookError,
    OrderBookMismatchError,
    OrderNotFoundError,
    OrderNotLiveError,
)
from iexec_kit.market.matcher import BestMatch
from iexec_kit.market.providers import (
    publish_app_order,
    publish_dataset_order,
    publish_workerpool_order,
)
from iexec_kit.market.store import BookEntry

__all__ = [
    "OrderBook",
    "Page",
    "BookEntry",
    "BestMatch",
    "publish_app_order",
    "publish_dataset_order",
    "publish_workerpool_order",
    "OrderBookError",
    "InvalidSignatureError",
    "AssetNotRegisteredError",
    "OrderNotLiveError",
    "NotOrderOwnerError",
    "OrderNotFoundError",
    "NoMatchingOrderError",
    "OrderBookMismatchError",
    "MarketApi",
    "MarketApiClient",
    "MarketApiError",
    "MarketValidationError",
    "MarketAuthError",
    "MarketRefusedError",
    "MarketNotFoundError",
]
