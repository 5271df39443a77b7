"""Order book figures with 10,000 orders in the book: publish and best-match latency.

Run: ``.venv/bin/python -m benchmarks.bench_market``.

Set-up (not timed in the table): a Sandbox (in-process chain), 8 more apps and 2 more
workerpools, 10,000 orders (5,000 app, 5,000 workerpool orders; random prices, volumes,
categories, trust, tags, a few restrictions) pre-signed in bulk by their owners (the EIP-712
digest signed directly, which is the same signature eth-account's typed-data signing gives), then
loaded into a book file through the storage layer in one transaction: every signature recovered
and compared with the owner read once per asset from the chain, the volume left not read (they are
fresh orders). Then, in the full book:

- publish: ``book.publish(order)`` of fresh orders, the whole path: EIP-712 hash, signature
  recovery, owner read from the chain (eth_call), volume left read from the chain (eth_call),
  SQLite insert in its own transaction (WAL, synchronous=NORMAL).
- publish (duplicate): the same order again (idempotent: found by hash, no chain read).
- best match: ``book.best_match(request)`` for random requests (category, trust, tags, max
  prices), including its chain reads (countCategory, the request's volume, and each candidate's
  volume left) and, when nothing matches, the explanation.
- list page: ``book.list("workerpool", category=..., limit=20)``, without and with the 20 live
  reads.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time

N_ORDERS = 10_000
N_SAMPLES = 200


def _stats(samples: list[float]) -> tuple[float, float, float]:
    s = sorted(samples)
    return statistics.median(s) * 1e3, s[int(len(s) * 0.95) - 1] * 1e3, statistics.mean(s) * 1e3


def _signer(domain):
    from eth_account import Account
    from eth_utils import keccak

    sep = domain.separator()
    sign_hash = getattr(Account, "unsafe_sign_hash", None) or Account._sign_hash

    def sign(order, key):
        from dataclasses import replace

        digest = keccak(b"\x19\x01" + sep + order.struct_hash())
        return replace(order, sign=bytes(sign_hash(digest, key).signature))

    return sign


def _random_orders(sb, apps, pools, rng, n, sign):
    from iexec_kit.poco.orders import AppOrder, WorkerpoolOrder
    from iexec_kit.protocol.tags import Tag

    tags = [Tag.NONE, Tag.NONE, Tag.NONE, Tag.GPU, Tag.TEE, Tag.TEE | Tag.GPU]
    restrict = ["0x0000000000000000000000000000000000000000"] * 9 + [sb.requester.address]
    out = []
    for i in range(n):
        if i % 2 == 0:
            o = AppOrder(
                app=rng.choice(apps),
                appprice=rng.randint(1, 1000) * 10**6,
                volume=rng.randint(1, 100),
                tag=rng.choice(tags[:3] + [Tag.TEE]).to_bytes32(),
                requesterrestrict=rng.choice(restrict),
                salt=rng.randbytes(32),
            )
            out.append(sign(o, sb.app_developer.key))
        else:
            o = WorkerpoolOrder(
                workerpool=rng.choice(pools),
                workerpoolprice=rng.randint(1, 1000) * 10**6,
                volume=rng.randint(1, 100),
                category=rng.randint(0, 4),
                trust=rng.randint(0, 10),
                tag=rng.choice(tags).to_bytes32(),
                requesterrestrict=rng.choice(restrict),
                salt=rng.randbytes(32),
            )
            out.append(sign(o, sb.scheduler.key))
    return out


def _prefill(book, orders) -> None:
    """Bulk load through the storage layer: signatures recovered and checked against the owner
    (read once per asset from the chain); volume left = the order's volume (fresh orders)."""
    from iexec_kit.market.store import COLUMNS, order_row

    owners, rows = {}, []
    for o in orders:
        if o.asset not in owners:
            owners[o.asset] = book.owner_of(o)
        if o.signer(book.domain) != owners[o.asset]:
            raise AssertionError("a pre-signed order does not verify")
        rows.append(order_row(o, "0x" + o.hash(book.domain).hex(), owners[o.asset], o.volume))
    with book.store.write() as c:
        c.executemany(
            f"INSERT OR IGNORE INTO orders ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(COLUMNS))})",
            rows,
        )


def _random_request(sb, apps, rng):
    from iexec_kit.poco.orders import RequestOrder
    from iexec_kit.protocol.tags import Tag

    return RequestOrder(
        app=rng.choice(apps),
        appmaxprice=rng.randint(1, 1000) * 10**6,
        requester=sb.requester.address,
        workerpoolmaxprice=rng.randint(1, 1000) * 10**6,
        category=rng.randint(0, 4),
        trust=rng.randint(0, 10),
        tag=rng.choice([Tag.NONE, Tag.NONE, Tag.GPU, Tag.TEE]).to_bytes32(),
        volume=rng.randint(1, 10),
        salt=rng.randbytes(32),
    )


def run() -> tuple[list, list]:
    from iexec_kit.market import NoMatchingOrderError, OrderBook
    from iexec_kit.sandbox import Sandbox

    notes = []
    t = time.perf_counter()
    sb = Sandbox.start(workers=1, folder=tempfile.mkdtemp(prefix="bench-market-"))
    hub, rng = sb.hub, random.Random(2024)
    apps = [sb.app_address] + [
        hub.create_app(sb.app_developer, f"bench-app-{i}", f"bench/app:{i}", bytes([i]) * 32)
        for i in range(1, 9)
    ]
    pools = [sb.workerpool_address] + [
        hub.create_workerpool(sb.scheduler, f"bench pool {i}") for i in (1, 2)
    ]
    notes.append(f"sandbox + 8 apps + 2 workerpools: {time.perf_counter() - t:.1f} s")

    book = OrderBook(hub, sb.folder)
    sign = _signer(book.domain)
    t = time.perf_counter()
    orders = _random_orders(sb, apps, pools, rng, N_ORDERS + N_SAMPLES, sign)
    notes.append(f"pre-sign {len(orders):,} orders in bulk: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    _prefill(book, orders[:N_ORDERS])
    notes.append(
        f"bulk load {N_ORDERS:,} orders (signatures verified): {time.perf_counter() - t:.1f} s; "
        f"book: {len(book):,} orders in {book.path}"
    )

    table = []
    fresh = orders[N_ORDERS:]
    samples = []
    for o in fresh:
        t = time.perf_counter()
        book.publish(o)
        samples.append(time.perf_counter() - t)
    table.append(("publish (new order, full checks)", len(samples), *_stats(samples)))
    parts = {
        "EIP-712 hash + signature recovery": lambda o: o.signer(book.domain),
        "owner read from the chain (eth_call)": lambda o: hub.asset_owner(o.asset),
        "volume left read from the chain (eth_call)": lambda o: hub.remaining(o),
    }
    for name, fn in parts.items():
        part = []
        for o in fresh[:50]:
            t = time.perf_counter()
            fn(o)
            part.append(time.perf_counter() - t)
        table.append((f"  of which: {name}", len(part), *_stats(part)))
    samples = []
    for o in fresh[:100]:
        t = time.perf_counter()
        book.publish(o)
        samples.append(time.perf_counter() - t)
    table.append(("publish (duplicate, idempotent)", len(samples), *_stats(samples)))

    samples, matched = [], 0
    for _ in range(N_SAMPLES):
        req = _random_request(sb, apps, rng)
        t = time.perf_counter()
        try:
            book.best_match(req)
            matched += 1
        except NoMatchingOrderError:
            pass
        samples.append(time.perf_counter() - t)
    table.append(
        (f"best match ({matched}/{N_SAMPLES} requests matched)", len(samples), *_stats(samples))
    )
    for live in (False, True):
        samples = []
        for i in range(50):
            t = time.perf_counter()
            book.list("workerpool", category=i % 5, limit=20, live=live)
            samples.append(time.perf_counter() - t)
        table.append(
            (
                f"list page of 20 ({'live volumes' if live else 'stored volumes'})",
                len(samples),
                *_stats(samples),
            )
        )
    notes.append(f"book after the run: {len(book):,} orders")
    book.close()
    return table, notes


def main() -> None:
    """Print the table (milliseconds)."""
    table, notes = run()
    for n in notes:
        print(n)
    print()
    width = max(len(r[0]) for r in table)
    print(
        f"{'operation (10,000 orders in the book)':<{width}}  {'n':>4}  "
        f"{'median ms':>9}  {'p95 ms':>8}  {'mean ms':>8}"
    )
    for name, n, med, p95, mean in table:
        print(f"{name:<{width}}  {n:>4}  {med:>9.2f}  {p95:>8.2f}  {mean:>8.2f}")


if __name__ == "__main__":
    main()
