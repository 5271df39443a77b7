"""Several processes publish into one book file at once, while others read: nothing is lost.

The children are forked, so each holds a copy of the session's in-process chain and checks
signatures, owners and volumes against it, exactly as the parent would.
"""

from __future__ import annotations

import multiprocessing as mp

from orderkit import RLC

from iexec_kit.market import OrderBook

WRITERS = 4


def _publish(hub, path, orders, start, queue):
    try:
        book = OrderBook(hub, path)
        start.wait(30)
        hashes = [book.publish(o).hash for o in orders]
        book.close()
        queue.put(("writer", hashes))
    except BaseException as exc:  # noqa: BLE001 - report it to the parent
        queue.put(("error", repr(exc)))


def _read(hub, path, start, queue):
    try:
        book = OrderBook(hub, path)
        start.wait(30)
        counts = [book.list("app", limit=50, live=False).count for _ in range(40)]
        queue.put(("reader", counts))
    except BaseException as exc:  # noqa: BLE001
        queue.put(("error", repr(exc)))


def test_concurrent_publishers_lose_nothing(sandbox, orders, tmp_path):
    ctx = mp.get_context("fork")
    path = tmp_path / "orderbook.sqlite3"
    apps = [orders.app(appprice=i * RLC, volume=1 + i % 5) for i in range(1, 61)]
    pools = [orders.pool(workerpoolprice=i) for i in range(1, 13)]
    everything = apps + pools
    # each writer publishes its share and a slice of another's (duplicates must stay single)
    shares = [
        everything[i::WRITERS] + everything[(i + 1) % WRITERS :: WRITERS][:10]
        for i in range(WRITERS)
    ]
    start, queue = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_publish, args=(sandbox.hub, path, s, start, queue)) for s in shares
    ]
    procs += [ctx.Process(target=_read, args=(sandbox.hub, path, start, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    start.set()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    errors = [r for r in results if r[0] == "error"]
    assert not errors, errors
    assert all(p.exitcode == 0 for p in procs)
    book = OrderBook(sandbox.hub, path)
    assert book.count("app") == len(apps) and book.count("workerpool") == len(pools)
    want = {"0x" + o.hash(book.domain).hex() for o in everything}
    assert {
        e.hash for kind in ("app", "workerpool") for e in book.list(kind, limit=1000, live=False)
    } == want
    for role, got in results:
        if role == "reader":  # a reader sees the book grow, never shrink nor a torn write
            assert got == sorted(got) and got[-1] <= len(apps)
        else:
            assert len(got) == len(set(got))
    assert book.store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
