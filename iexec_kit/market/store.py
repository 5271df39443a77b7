"""The order book's SQLite storage: schema, connection settings and the row <-> order mapping.

One table holds every order as its ``as_dict()`` JSON plus indexed columns for the filters and
the best-match queries. Settings for several processes at once: WAL journal (readers never
block the writer), a busy timeout (a writer waits for another instead of failing), and writes in
``BEGIN IMMEDIATE`` transactions (the write lock is taken up front, so no deadlock on upgrade).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from iexec_kit.poco.orders import AppOrder, DatasetOrder, RequestOrder, WorkerpoolOrder
from iexec_kit.protocol.tags import Tag

SCHEMA_VERSION = "1"
BUSY_TIMEOUT_MS = 30_000
INT_MAX = (
    2**63 - 1
)  # SQLite INTEGER; bigger volumes/prices are clamped in the columns, exact in the JSON
ZERO = "0x0000000000000000000000000000000000000000"

KINDS = {
    "app": AppOrder,
    "dataset": DatasetOrder,
    "workerpool": WorkerpoolOrder,
    "request": RequestOrder,
}
KIND_OF = {cls: kind for kind, cls in KINDS.items()}

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    app TEXT NOT NULL, dataset TEXT NOT NULL, workerpool TEXT NOT NULL, requester TEXT NOT NULL,
    apprestrict TEXT NOT NULL, datasetrestrict TEXT NOT NULL,
    workerpoolrestrict TEXT NOT NULL, requesterrestrict TEXT NOT NULL,
    price INTEGER NOT NULL,
    volume INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    tag INTEGER NOT NULL,
    tag_high INTEGER NOT NULL,
    category INTEGER NOT NULL,
    trust INTEGER NOT NULL,
    published_at REAL NOT NULL,
    checked_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_app ON orders (kind, app, price, remaining);
CREATE INDEX IF NOT EXISTS orders_dataset ON orders (kind, dataset, price, remaining);
CREATE INDEX IF NOT EXISTS orders_pool ON orders (kind, workerpool, price, remaining);
CREATE INDEX IF NOT EXISTS orders_category ON orders (kind, category, price, remaining);
CREATE INDEX IF NOT EXISTS orders_requester ON orders (kind, requester);
CREATE INDEX IF NOT EXISTS orders_owner ON orders (owner);
"""

COLUMNS = (
    "hash",
    "kind",
    "owner",
    "app",
    "dataset",
    "workerpool",
    "requester",
    "apprestrict",
    "datasetrestrict",
    "workerpoolrestrict",
    "requesterrestrict",
    "price",
    "volume",
    "remaining",
    "tag",
    "tag_high",
    "category",
    "trust",
    "published_at",
    "checked_at",
    "body",
)


def clamp(n: int) -> int:
    """An int as SQLite can index it (values above 2**63-1 sort as 2**63-1)."""
    return min(int(n), INT_MAX)


def low(address: str) -> str:
    """Addresses are stored and compared in lower case."""
    return address.lower()


def kind_of(order) -> str:
    """ "app", "dataset", "workerpool" or "request" for an order object."""
    return KIND_OF[type(order)]


def order_row(
    order, order_hash: str, owner: str, remaining: int, now: float | None = None
) -> tuple:
    """The column values of one order (in :data:`COLUMNS` order)."""
    now = time.time() if now is None else now
    kind = kind_of(order)
    tag = int(Tag.parse(order.tag))
    g = lambda name: low(getattr(order, name, ZERO))  # noqa: E731 - a field, or the zero address
    if kind == "request":
        price = order.total_max_price
    else:
        price = order.price
    return (
        order_hash,
        kind,
        low(owner),
        g("app"),
        g("dataset"),
        g("workerpool"),
        g("requester"),
        g("apprestrict"),
        g("datasetrestrict"),
        g("workerpoolrestrict"),
        g("requesterrestrict"),
        clamp(price),
        clamp(order.volume),
        clamp(remaining),
        tag & INT_MAX,
        int(tag > INT_MAX),
        clamp(getattr(order, "category", 0)),
        clamp(getattr(order, "trust", 0)),
        now,
        now,
        json.dumps(order.as_dict(), separators=(",", ":")),
    )


def order_from_row(kind: str, body: str):
    """Rebuild the order dataclass from its stored JSON."""
    return KINDS[kind].from_dict(json.loads(body))


@dataclass(frozen=True)
class BookEntry:
    """One published order: its hash, kind, the order itself, its owner, the volume left on chain
    (as last read: ``checked_at``), and when it was published (unix time)."""

    hash: str
    kind: str
    order: object
    owner: str
    remaining: int
    published_at: float
    checked_at: float

    @property
    def price(self) -> int:
        """The order's price per task in nRLC (a request order: the sum of its max prices)."""
        return self.order.total_max_price if self.kind == "request" else self.order.price

    def as_dict(self) -> dict:
        """Plain data, like the entries of iExec's market API."""
        return {
            "orderHash": self.hash,
            "kind": self.kind,
            "order": self.order.as_dict(),
            "owner": self.owner,
            "remaining": self.remaining,
            "publicationTimestamp": self.published_at,
        }


ENTRY_COLUMNS = "hash, kind, owner, remaining, published_at, checked_at, body"
ENTRY_SELECT = f"SELECT {ENTRY_COLUMNS} FROM orders"


def entry_from_row(row) -> BookEntry:
    """A :class:`BookEntry` from an ``ENTRY_SELECT`` row."""
    h, kind, owner, remaining, published, checked, body = row
    from eth_utils import to_checksum_address

    return BookEntry(
        h,
        kind,
        order_from_row(kind, body),
        to_checksum_address(owner),
        remaining,
        published,
        checked,
    )


class Store:
    """A SQLite connection set up for the book (one per process; re-opened after a fork)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn = None
        self._pid = None

    @property
    def conn(self) -> sqlite3.Connection:
        """This process's connection (opened on first use, and again in a forked child)."""
        if self._conn is None or self._pid != os.getpid():
            self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        with self._write(conn):
            for stmt in filter(str.strip, DDL.split(";")):
                conn.execute(stmt)
        return conn

    @staticmethod
    @contextmanager
    def _write(conn):
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def write(self):
        """A write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        with self._lock, self._write(self.conn) as conn:
            yield conn

    @contextmanager
    def read(self):
        """A read transaction: every statement inside sees the same snapshot."""
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def query(self, sql: str, args=()) -> list:
        """Rows of one SELECT (one statement: its own consistent snapshot)."""
        with self._lock:
            return self.conn.execute(sql, args).fetchall()

    def close(self) -> None:
        """Close this process's connection (the file stays)."""
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None


__all__ = [
    "BookEntry",
    "Store",
    "KINDS",
    "COLUMNS",
    "ZERO",
    "order_row",
    "entry_from_row",
    "kind_of",
    "low",
    "clamp",
]
