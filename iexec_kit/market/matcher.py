"""Best match: the cheapest orders in the book that matchOrders would accept with a request.

Candidates come from SQL (:mod:`iexec_kit.market.compat`), cheapest first, then most volume left
as last seen. The volume on chain can only go down (deals and cancellations add to
``consumed``), so the book's copy is an upper bound: a candidate whose live volume equals its
copy beats every later row, and only candidates read from the chain until then cost a call.
The book assumes a chain that moves forward; after reverting a snapshot, publish a fresh book.
"""

from __future__ import annotations

from dataclasses import dataclass

from iexec_kit.market.compat import conditions, known_orders, mismatch
from iexec_kit.market.errors import NoMatchingOrderError, OrderNotLiveError
from iexec_kit.market.store import ENTRY_COLUMNS, ZERO, BookEntry, entry_from_row, low
from iexec_kit.poco.orders import DatasetOrder, RequestOrder
from iexec_kit.protocol.tags import Tag
from iexec_kit.protocol.units import nrlc

BATCH = 32
ORDER_BY = "ORDER BY price ASC, remaining DESC, seq ASC"


@dataclass(frozen=True)
class BestMatch:
    """The orders to match with a request: app, dataset (None without one) and workerpool entries,
    the price per task (nRLC) and the volume matchOrders would give (the smallest volume left,
    the request's included)."""

    app: BookEntry
    dataset: BookEntry | None
    workerpool: BookEntry
    price: int
    volume: int

    def orders(self) -> tuple:
        """(app order, dataset order or the empty one, workerpool order), as matchOrders takes
        them."""
        ds = self.dataset.order if self.dataset is not None else DatasetOrder.empty()
        return self.app.order, ds, self.workerpool.order


class Matcher:
    """The search behind :meth:`OrderBook.best_match` (one per book)."""

    def __init__(self, book):
        self.book = book

    def _rows(self, where: list, args: list):
        """Candidate rows in book order, fetched a batch at a time."""
        offset = 0
        sql = (
            f"SELECT {ENTRY_COLUMNS}, price, seq FROM orders WHERE {' AND '.join(where)} "
            f"{ORDER_BY} LIMIT ? OFFSET ?"
        )
        while True:
            rows = self.book.store.query(sql, [*args, BATCH, offset])
            yield from rows
            if len(rows) < BATCH:
                return
            offset += BATCH

    def first_live(self, where: list, args: list, accept=lambda order: True) -> BookEntry | None:
        """The first candidate (price, then volume left on chain) that ``accept`` takes."""
        deferred = None  # (key, entry): a candidate whose live volume fell below its copy
        for row in self._rows(where, args):
            entry, price, seq = entry_from_row(row[:7]), row[7], row[8]
            if deferred is not None and deferred[0] <= (price, -entry.remaining, seq):
                return deferred[1]
            if not accept(entry.order):
                continue
            live = self.book.refresh(entry)
            if live.remaining == entry.remaining:
                return live
            if live.remaining > 0 and (
                deferred is None or (price, -live.remaining, seq) < deferred[0]
            ):
                deferred = ((price, -live.remaining, seq), live)
        return deferred[1] if deferred else None

    def _best(self, kind: str, known: dict) -> BookEntry | None:
        """The cheapest live order of ``kind`` that fits the ``known`` orders (side -> order)."""
        where, args = conditions(kind, known)
        return self.first_live(where, args, lambda o: mismatch({**known, kind: o}) is None)

    def best_app(self, request: RequestOrder) -> BookEntry | None:
        """The cheapest live app order for ``request``, workerpools aside."""
        return self._best("app", known_orders(request))

    def best_dataset(self, request: RequestOrder, app) -> BookEntry | None:
        """The cheapest live dataset order for ``request`` with the app order ``app``."""
        return self._best("dataset", {"request": request, "app": app})

    def best_pool(self, request: RequestOrder, app=None, dataset=None) -> BookEntry | None:
        """The cheapest live workerpool order for ``request`` (with ``app``/``dataset`` orders
        when given)."""
        app = getattr(app, "order", app)
        dataset = getattr(dataset, "order", dataset)
        return self._best("workerpool", known_orders(request, app, dataset))

    def _floor(self, where: list, args: list) -> int | None:
        return self.book.store.query(
            f"SELECT MIN(price) FROM orders WHERE {' AND '.join(where)}", args
        )[0][0]

    def best_match(self, request: RequestOrder) -> BestMatch:
        """See :meth:`OrderBook.best_match`: app orders in price order, each with its best dataset
        and workerpool, until no later app order can win."""
        hub = self.book.hub
        ncat = hub.chain.call(hub.fn.countCategory())
        if request.category >= ncat:
            raise NoMatchingOrderError(
                f"category {request.category} does not exist on this hub",
                expected=f"a category from 0 to {ncat - 1}",
                got=str(request.category),
                hint="see hub.categories() for their names and clocks",
            )
        req_left = hub.remaining(request)
        if req_left == 0:
            raise OrderNotLiveError(
                "this request order has no volume left on chain (consumed or cancelled)",
                expected="a request with volume > 0",
                got=f"volume {request.volume}",
                hint="sign a new request order (a new salt)",
            )
        pool_floor = self._floor(*conditions("workerpool", known_orders(request)))
        if pool_floor is None:
            raise self._explain(request, "workerpool")
        with_dataset = low(request.dataset) != ZERO
        best, best_key = None, None
        app_known = known_orders(request)
        app_where, app_args = conditions("app", app_known)
        for row in self._rows(app_where, app_args):
            a, a_price = entry_from_row(row[:7]), row[7]
            if best_key is not None:
                floor = a_price + pool_floor
                if floor > best_key[0] or (floor == best_key[0] and a.remaining <= -best_key[1]):
                    break  # no later app order can be cheaper, or as cheap with more volume
            if mismatch({**app_known, "app": a.order}) is not None:
                continue
            a = self.book.refresh(a)
            if a.remaining == 0:
                continue
            d = self.best_dataset(request, a.order) if with_dataset else None
            if with_dataset and d is None:
                continue
            p = self.best_pool(request, a.order, d.order if d else None)
            if p is None:
                continue
            price = a.price + (d.price if d else 0) + p.price
            volume = min(a.remaining, p.remaining, *([d.remaining] if d else []))
            key = (price, -volume)
            if best_key is None or key < best_key:
                best, best_key = (a, d, p), key
        if best is None:
            raise self._explain(request, "app" if self.best_app(request) is None else "combination")
        a, d, p = best
        return BestMatch(a, d, p, best_key[0], min(-best_key[1], req_left))

    # ----- why nothing matches ------------------------------------------------------------
    def _explain(self, request: RequestOrder, missing: str) -> NoMatchingOrderError:
        def stats(where: str, args: list):
            sql = (
                "SELECT COUNT(*), MIN(price), MAX(trust) "
                f"FROM orders WHERE {where} AND remaining > 0"
            )
            return self.book.store.query(sql, args)[0]

        if missing == "app":
            n, cheapest, _ = stats("kind = 'app' AND app = ?", [low(request.app)])
            if n == 0:
                return NoMatchingOrderError(
                    f"the book has no app order for app {request.app}",
                    expected="an app order with volume left",
                    got="none",
                    hint="the app developer publishes one "
                    "(iexec_kit.market.publish_app_order(hub, book, developer, app, price=...))",
                )
            if cheapest > request.appmaxprice:
                return NoMatchingOrderError(
                    f"every app order for {request.app} costs more than your app max price",
                    expected=f"an app price <= {nrlc(request.appmaxprice)}",
                    got=f"the cheapest is {nrlc(cheapest)} ({n} order(s))",
                    hint=f"raise your app max price to {nrlc(cheapest)}",
                )
            return NoMatchingOrderError(
                f"the {n} app order(s) for {request.app} exclude this request",
                expected="an app order whose restrictions (dataset, workerpool, requester) "
                "and TEE tag allow this request",
                got=f"{n} order(s) restricted to other accounts or without TEE",
                hint="ask the app developer for an order open to you",
            )
        n, cheapest, trust = stats("kind = 'workerpool' AND category = ?", [request.category])
        if n == 0:
            return NoMatchingOrderError(
                f"the book has no workerpool order in category {request.category}",
                expected="a workerpool order with volume left",
                got="none",
                hint="the scheduler publishes one (iexec_kit.market.publish_workerpool_order"
                "(hub, book, scheduler, workerpool, price=..., category=...))",
            )
        if cheapest > request.workerpoolmaxprice:
            return NoMatchingOrderError(
                f"every workerpool order in category {request.category} costs more than your "
                "workerpool max price",
                expected=f"a price <= {nrlc(request.workerpoolmaxprice)}",
                got=f"the cheapest is {nrlc(cheapest)}",
                hint=f"raise your workerpool max price to {nrlc(cheapest)}",
            )
        if trust < request.trust:
            return NoMatchingOrderError(
                f"no workerpool order offers trust {request.trust}",
                expected=f"trust >= {request.trust}",
                got=f"at most {trust}",
                hint=f"ask for trust {trust} or less",
            )
        tag = Tag.parse(request.tag)
        return NoMatchingOrderError(
            "no workerpool order fits this request and the app orders together",
            expected=f"a workerpool order offering tags {tag!s}, open to this app, dataset "
            "and requester, and allowed by the app order's workerpool restriction",
            got=f"{n} workerpool order(s) in category {request.category}, none compatible",
            hint="check tags (TEE, GPU) and restrictions with book.list('workerpool', ...)",
        )
