"""The order book: iExec's off-chain marketplace, on SQLite.

Providers publish signed orders; requesters list them and ask for the best match. The book
checks what the chain knows (who owns an asset, the volume left) and keeps the rest off chain,
as iExec's market API does. See :class:`OrderBook`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from eth_utils import to_checksum_address

from iexec_kit.errors import KitValueError
from iexec_kit.market import unpublish as unpub
from iexec_kit.market.errors import (
    AssetNotRegisteredError,
    InvalidSignatureError,
    NotOrderOwnerError,
    OrderBookMismatchError,
    OrderNotFoundError,
    OrderNotLiveError,
)
from iexec_kit.market.matcher import BestMatch, Matcher
from iexec_kit.market.store import (
    COLUMNS,
    ENTRY_SELECT,
    KIND_OF,
    KINDS,
    ZERO,
    BookEntry,
    Store,
    entry_from_row,
    kind_of,
    low,
    order_row,
)
from iexec_kit.poco.orders import RequestOrder
from iexec_kit.protocol.tags import Tag

FILENAME = "orderbook.sqlite3"
MAX_PAGE = 1000

# list filter -> order kind -> (column, how): "eq" the order's own field, "allows" a restriction
# that is either unset or this very address (the order can be used with it)
_FILTERS = {
    "app": {
        "app": ("app", "eq"),
        "dataset": ("apprestrict", "allows"),
        "workerpool": ("apprestrict", "allows"),
        "request": ("app", "eq"),
    },
    "dataset": {
        "app": ("datasetrestrict", "allows"),
        "dataset": ("dataset", "eq"),
        "workerpool": ("datasetrestrict", "allows"),
        "request": ("dataset", "eq"),
    },
    "workerpool": {
        "app": ("workerpoolrestrict", "allows"),
        "dataset": ("workerpoolrestrict", "allows"),
        "workerpool": ("workerpool", "eq"),
        "request": ("workerpool", "allows"),
    },
    "requester": {
        "app": ("requesterrestrict", "allows"),
        "dataset": ("requesterrestrict", "allows"),
        "workerpool": ("requesterrestrict", "allows"),
        "request": ("requester", "eq"),
    },
}


@dataclass(frozen=True)
class Page:
    """One page of :meth:`OrderBook.list`: ``entries``, the ``count`` of all that match, and
    where the next page starts (``next_offset``, None on the last page)."""

    entries: list
    count: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page, or None after the last one."""
        end = self.offset + len(self.entries)
        return end if end < self.count else None

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


class OrderBook:
    """The off-chain order book of one hub, stored in SQLite.

    ``OrderBook(hub)`` keeps it in memory; ``OrderBook(hub, path)`` in a file (a folder gets an
    ``orderbook.sqlite3`` inside), which several processes may open and write at once.

    - :meth:`publish` checks the EIP-712 signature against the owner read from the chain and the
      volume left on chain (0 = consumed, cancelled: refused); publishing twice is harmless.
    - :meth:`unpublish` takes an order off the book; only its owner may (a signed authorization).
    - :meth:`list` filters like iExec's market API, page by page.
    - :meth:`best_match` finds the cheapest orders matchOrders would accept with a request.
    """

    def __init__(self, hub, path: str | Path = ":memory:"):
        if str(path) != ":memory:" and Path(path).is_dir():
            path = Path(path) / FILENAME
        self.hub = hub
        self.domain = hub.domain()
        self.store = Store(path)
        self._registered: set[str] = set()
        self._check_meta()
        self._matcher = Matcher(self)

    @property
    def path(self) -> str:
        """Where the book lives (":memory:" or a file path)."""
        return self.store.path

    def _check_meta(self) -> None:
        want = {"chain_id": str(self.domain.chain_id), "hub": low(self.domain.verifying_contract)}
        with self.store.write() as c:
            have = dict(c.execute("SELECT key, value FROM meta").fetchall())
            for k, v in want.items():
                if k not in have:
                    c.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (k, v))
        for k, v in want.items():
            if k in have and have[k] != v:
                raise OrderBookMismatchError(
                    f"the order book at {self.path} holds orders for another network",
                    expected=f"{k} {v}",
                    got=f"{k} {have[k]}",
                    hint="open a book file made for this hub (e.g. in this sandbox's folder), "
                    "or a new file",
                )

    # ----- publish ------------------------------------------------------------------------
    def publish(self, order) -> BookEntry:
        """Check ``order`` and add it to the book; return its entry (the existing one if the very
        same order was published before).

        Refused: an order not signed by its owner (the asset's owner read from the chain, or the
        requester), an asset that is not registered, an order with no volume left on chain
        (consumed by deals or cancelled). An unsigned order is accepted if presigned on chain.
        """
        if type(order) not in KINDS.values():
            raise KitValueError(
                "only orders can be published",
                expected="an AppOrder, DatasetOrder, WorkerpoolOrder or RequestOrder",
                got=type(order).__name__,
            )
        order_hash = "0x" + order.hash(self.domain).hex()
        existing = self._entry(order_hash)
        if existing is not None and bytes(existing.order.sign) == bytes(order.sign):
            return existing
        owner = self._check_signature(order, order_hash)
        remaining = self.hub.remaining(order)
        if remaining == 0:
            raise OrderNotLiveError(
                f"this {order.TYPE_NAME} cannot be published: {self._why_empty(order, order_hash)}",
                expected="an order with volume left on chain",
                got=f"remaining volume 0 of {order.volume}",
                hint="sign a new order (a new salt) to sell again",
            )
        with self.store.write() as c:
            c.execute(
                f"INSERT OR IGNORE INTO orders ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(COLUMNS))})",
                order_row(order, order_hash, owner, remaining),
            )
        return self._entry(order_hash)

    def publish_many(self, orders) -> list[BookEntry]:
        """:meth:`publish` each order; return their entries in order."""
        return [self.publish(o) for o in orders]

    def owner_of(self, order) -> str:
        """Who must sign ``order``, read from the chain: the asset's owner, or the requester."""
        if isinstance(order, RequestOrder):
            return to_checksum_address(order.requester)
        asset = to_checksum_address(order.asset)
        kind = kind_of(order)
        if asset not in self._registered:
            registry = self.hub.registry(kind)
            if not self.hub.chain.call(registry.functions.isRegistered(asset)):
                raise AssetNotRegisteredError(
                    f"the {order.TYPE_NAME} sells {kind} {asset}, "
                    f"which the {kind} registry does not know",
                    expected=f"a {kind} registered on this hub",
                    got=asset,
                    hint=f"register it first (hub.create_{kind}(...)) "
                    f"or fix the order's {kind} address",
                )
            self._registered.add(
                asset
            )  # registrations are permanent; owners are not (read each time)
        return to_checksum_address(self.hub.asset_owner(asset))

    def _check_signature(self, order, order_hash: str) -> str:
        owner = self.owner_of(order)
        if not order.sign:
            if low(self.hub.presigned(order)) == low(owner):
                return owner
            raise InvalidSignatureError(
                f"this {order.TYPE_NAME} carries no signature and is not presigned on chain",
                expected=f"a signature by its owner {owner}",
                got="no signature",
                hint="sign it: hub.sign_order(order, owner), or presign it on chain",
            )
        signer = order.signer(self.domain)
        if signer is None or low(signer) != low(owner):
            raise InvalidSignatureError(
                f"this {order.TYPE_NAME} is not signed by its owner",
                expected=f"a signature by {owner} (read from the chain)",
                got=f"a signature by {signer}" if signer else "a malformed signature",
                hint="an unknown signer means a field was changed after signing, "
                "or the wrong key signed: "
                "sign the final order with the owner's key (hub.sign_order(order, owner))",
            )
        return owner

    def _why_empty(self, order, order_hash: str) -> str:
        if order.volume == 0:
            return "its volume is 0"
        try:
            event = getattr(self.hub.contract.events, f"Closed{order.TYPE_NAME}")
            for log in event.get_logs(from_block=0):
                if "0x" + bytes(next(iter(log["args"].values()))).hex() == order_hash:
                    return "its owner cancelled it on chain"
        except Exception:  # noqa: BLE001 - the reason is a courtesy; the refusal stands
            return "it was consumed by deals or cancelled by its owner"
        return "deals consumed all its volume"

    # ----- read ---------------------------------------------------------------------------
    def _entry(self, order_hash: str) -> BookEntry | None:
        rows = self.store.query(f"{ENTRY_SELECT} WHERE hash = ?", (low(order_hash),))
        return entry_from_row(rows[0]) if rows else None

    def get(self, order_hash: str | bytes) -> BookEntry:
        """The entry of a published order, by hash (raises :class:`OrderNotFoundError`)."""
        h = _hash_text(order_hash)
        entry = self._entry(h)
        if entry is None:
            raise OrderNotFoundError(
                "no order with this hash in the book",
                got=h,
                hint="publish it first, or list the book to find its hash",
            )
        return entry

    def __contains__(self, order_or_hash) -> bool:
        return self._entry(self._hash_of(order_or_hash)) is not None

    def count(self, kind: str | None = None, *, include_empty: bool = False) -> int:
        """How many orders the book holds (of one ``kind``; with volume left unless
        ``include_empty``)."""
        where, args = ["1 = 1"], []
        if kind is not None:
            where.append("kind = ?")
            args.append(_kind(kind))
        if not include_empty:
            where.append("remaining > 0")
        return self.store.query(f"SELECT COUNT(*) FROM orders WHERE {' AND '.join(where)}", args)[
            0
        ][0]

    def __len__(self) -> int:
        return self.count(include_empty=True)

    def list(
        self,
        kind: str = "app",
        *,
        app: str | None = None,
        dataset: str | None = None,
        workerpool: str | None = None,
        requester: str | None = None,
        owner: str | None = None,
        category: int | None = None,
        min_trust: int | None = None,
        tag=None,
        include_empty: bool = False,
        limit: int = 20,
        offset: int = 0,
        live: bool = True,
    ) -> Page:
        """Orders of one ``kind`` ("app", "dataset", "workerpool" or "request"), cheapest first,
        then most volume left, then oldest.

        ``app``/``dataset``/``workerpool``/``requester``: orders for that asset or requester, or
        usable with it (their restriction is unset or names it). ``category``, ``min_trust``: for
        workerpool and request orders. ``tag``: orders offering at least those tags ("tee,gpu").
        ``live``: read each listed order's remaining volume from the chain (else the last value
        seen).
        """
        kind = _kind(kind)
        if not 0 < limit <= MAX_PAGE or offset < 0:
            raise KitValueError(
                "a page is 1 to 1000 orders from an offset >= 0",
                got=f"limit {limit}, offset {offset}",
            )
        where, args = ["kind = ?"], [kind]
        for name, value in (
            ("app", app),
            ("dataset", dataset),
            ("workerpool", workerpool),
            ("requester", requester),
        ):
            if value is None:
                continue
            column, how = _FILTERS[name][kind]
            if how == "eq":
                where.append(f"{column} = ?")
                args.append(low(value))
            else:
                where.append(f"{column} IN (?, ?)")
                args += [ZERO, low(value)]
        if owner is not None:
            where.append("owner = ?")
            args.append(low(owner))
        for name, value, sql in (
            ("category", category, "category = ?"),
            ("min_trust", min_trust, "trust >= ?"),
        ):
            if value is None:
                continue
            if kind not in ("workerpool", "request"):
                raise KitValueError(
                    f"{kind} orders have no {name.replace('min_', '')}",
                    expected=f"{name} with kind 'workerpool' or 'request'",
                    got=f"kind {kind!r}",
                )
            where.append(sql)
            args.append(value)
        if tag is not None:
            bits = int(Tag.parse(tag))
            where.append("(tag & ?) = ?")
            args += [bits, bits]
        if not include_empty:
            where.append("remaining > 0")
        sql_where = " AND ".join(where)
        with self.store.read() as c:
            total = c.execute(f"SELECT COUNT(*) FROM orders WHERE {sql_where}", args).fetchone()[0]
            rows = c.execute(
                f"{ENTRY_SELECT} WHERE {sql_where} ORDER BY price ASC, remaining DESC, seq ASC "
                f"LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        entries = [entry_from_row(r) for r in rows]
        if live:
            entries = [self.refresh(e) for e in entries]
        return Page(entries, total, offset, limit)

    # ----- the chain's view ---------------------------------------------------------------
    def remaining(self, order_or_hash) -> int:
        """The volume left of an order, read from the chain now (the book's copy is updated)."""
        if isinstance(order_or_hash, (str, bytes)):
            return self.refresh(self.get(order_or_hash)).remaining
        left = self.hub.remaining(order_or_hash)
        self._set_remaining(self._hash_of(order_or_hash), left)
        return left

    def refresh(self, entry: BookEntry) -> BookEntry:
        """``entry`` with its remaining volume read from the chain (and stored).

        An asset changes hands with its registry token: an order signed by a previous owner no
        longer matches (the hub checks the signer against the owner now), so it reads as 0 left
        while someone else holds the asset (not stored: the asset may come back)."""
        left = self.hub.remaining(entry.order)
        now = time.time()
        if left != entry.remaining:
            self._set_remaining(entry.hash, left, now)
        if left and low(self.owner_of(entry.order)) != low(entry.owner):
            left = 0
        return BookEntry(
            entry.hash, entry.kind, entry.order, entry.owner, left, entry.published_at, now
        )

    def _set_remaining(self, order_hash: str, left: int, now: float | None = None) -> None:
        with self.store.write() as c:
            c.execute(
                "UPDATE orders SET remaining = ?, checked_at = ? WHERE hash = ?",
                (min(left, 2**63 - 1), now or time.time(), low(order_hash)),
            )

    # ----- unpublish ----------------------------------------------------------------------
    def unpublish(
        self, order_or_hash, *, by=None, signature: bytes | None = None, deadline: int | None = None
    ) -> BookEntry:
        """Take an order off the book; only its owner may. Return the removed entry.

        Either ``by=owner`` (a Participant: the book signs the authorization with its key), or
        ``signature`` + ``deadline`` made elsewhere with :func:`iexec_kit.market.unpublish.sign`:
        the owner's EIP-712 signature of UnpublishOrder(orderHash, deadline), checked against the
        owner read from the chain now. This does not cancel the order on chain: anyone holding a
        copy can still match it until ``hub.cancel_order`` closes it.
        """
        entry = self.get(self._hash_of(order_or_hash))
        if by is not None:
            signature, deadline = unpub.sign(by.key, self.domain, entry.hash, deadline)
        if signature is None or deadline is None:
            raise KitValueError(
                "unpublishing needs the owner's authorization",
                expected="by=<owner Participant>, or signature= and deadline=",
                got="neither",
                hint="book.unpublish(order, by=owner)",
            )
        now = int(time.time())
        if not now <= deadline <= now + unpub.MAX_VALIDITY:
            raise NotOrderOwnerError(
                "the unpublish authorization is out of its time window",
                expected=f"a deadline between now ({now}) and {unpub.MAX_VALIDITY} s later",
                got=str(deadline),
                hint="sign a fresh authorization",
            )
        try:
            owner = self.owner_of(entry.order)
        except Exception:  # noqa: BLE001 - the chain no longer knows the asset: the publisher owns it
            owner = entry.owner
        signer = unpub.signer(signature, self.domain, entry.hash, deadline)
        if signer is None or low(signer) != low(owner):
            raise NotOrderOwnerError(
                f"only the owner of this {entry.order.TYPE_NAME} may unpublish it",
                expected=f"an authorization signed by {owner}",
                got=f"one signed by {signer}" if signer else "a malformed signature",
                hint="ask the owner to unpublish it (book.unpublish(order, by=owner))",
            )
        with self.store.write() as c:
            c.execute("DELETE FROM orders WHERE hash = ?", (entry.hash,))
        return entry

    def remove(self, order_hashes) -> int:
        """Take orders off the book by hash, with no authorization check: for a caller that
        authenticated the owner itself (the market API's signed challenge). Returns how many
        were removed; :meth:`unpublish` is the checked way."""
        hashes = [_hash_text(h) for h in order_hashes]
        with self.store.write() as c:
            return sum(
                c.execute("DELETE FROM orders WHERE hash = ?", (h,)).rowcount for h in hashes
            )

    # ----- matching -----------------------------------------------------------------------
    def best_match(self, request: RequestOrder) -> BestMatch:
        """The cheapest app (+ dataset) + workerpool orders matchOrders would accept with
        ``request``, then the one with most volume left; raises :class:`NoMatchingOrderError`
        saying what the book lacks. The request need not be signed yet."""
        return self._matcher.best_match(request)

    def best_workerpool_order(
        self, request: RequestOrder, app=None, dataset=None
    ) -> BookEntry | None:
        """The cheapest live workerpool order for ``request`` (and ``app``/``dataset`` orders),
        or None."""
        return self._matcher.best_pool(request, app, dataset)

    def best_app_order(self, request: RequestOrder) -> BookEntry | None:
        """The cheapest live app order for ``request`` ignoring workerpools, or None."""
        return self._matcher.best_app(request)

    def _hash_of(self, order_or_hash) -> str:
        if isinstance(order_or_hash, (str, bytes)):
            return _hash_text(order_or_hash)
        if isinstance(order_or_hash, BookEntry):
            return order_or_hash.hash
        return "0x" + order_or_hash.hash(self.domain).hex()

    def close(self) -> None:
        """Close this process's connection to the book's file."""
        self.store.close()

    def __repr__(self) -> str:
        return (
            f"<OrderBook {self.path}: {len(self)} orders for hub {self.domain.verifying_contract}>"
        )


def _hash_text(order_hash: str | bytes) -> str:
    h = order_hash if isinstance(order_hash, str) else "0x" + bytes(order_hash).hex()
    if not (h.startswith("0x") and len(h) == 66):
        raise KitValueError(
            "an order hash is 32 bytes", expected="0x + 64 hex digits", got=repr(order_hash)
        )
    return h.lower()


def _kind(kind) -> str:
    if isinstance(kind, type) and kind in KINDS.values():
        return KIND_OF[kind]
    if kind not in KINDS:
        raise KitValueError(
            "unknown order kind",
            expected="'app', 'dataset', 'workerpool' or 'request'",
            got=repr(kind),
        )
    return kind
