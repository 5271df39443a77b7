"""The market API's latency over HTTP with 10,000 orders in the book.

Run: ``.venv/bin/python -m benchmarks market_api`` (or ``-m benchmarks.bench_market_api``).

Set-up (not timed in the table): the same book as ``bench_market`` (a Sandbox on the in-process
chain, 8 more apps and 2 more workerpools, 10,000 signed app and workerpool orders bulk-loaded
with their signatures verified), then ``MarketApi(book, hub).start()`` on 127.0.0.1 and a
``MarketApiClient`` (requests, one kept-alive connection). Each row is one HTTP request as the
SDK sends it, timed from the client, sequential (one request at a time):

- challenge: ``GET /challenge`` (a fresh one: the previous one was used).
- publish: ``POST /apporders`` of a new order with a fresh Authorization (the challenge round
  trip is not in the time): sign-in check, EIP-712 hash, signature recovery, the app's
  registration and owner read from the chain, the volume left read from the chain, insert.
- list: ``GET /apporders`` / ``/workerpoolorders`` pages of 20 with the SDK's filters, a deep
  page, and the same page after a new block (the hub's events since the last block are read).
- one order: ``GET /apporders/<hash>`` (the volume left re-read from the chain).
- unpublish: ``PUT /apporders`` by hash with a fresh Authorization.
"""

from __future__ import annotations

import random
import tempfile
import time

from benchmarks.bench_market import _prefill, _random_orders, _signer, _stats

N_ORDERS = 10_000
N_SAMPLES = 100


def _time(fn, n: int = N_SAMPLES) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


def run() -> tuple[list, list]:
    from iexec_kit.market import OrderBook
    from iexec_kit.market.api import MarketApi, MarketApiClient, order_json
    from iexec_kit.poco.orders import AppOrder
    from iexec_kit.protocol.tags import Tag
    from iexec_kit.sandbox import Sandbox

    notes = []
    t = time.perf_counter()
    sb = Sandbox.start(workers=1, folder=tempfile.mkdtemp(prefix="bench-market-api-"))
    hub, rng = sb.hub, random.Random(2025)
    apps = [sb.app_address] + [
        hub.create_app(sb.app_developer, f"bench-app-{i}", f"bench/app:{i}", bytes([i]) * 32)
        for i in range(1, 9)
    ]
    pools = [sb.workerpool_address] + [
        hub.create_workerpool(sb.scheduler, f"bench pool {i}") for i in (1, 2)
    ]
    book = OrderBook(hub, sb.folder)
    sign = _signer(book.domain)
    _prefill(book, _random_orders(sb, apps, pools, rng, N_ORDERS, sign))
    notes.append(f"set-up (sandbox, assets, {len(book):,} orders): {time.perf_counter() - t:.1f} s")

    table = []
    dev = sb.app_developer
    with MarketApi(book, hub) as api:
        client = MarketApiClient(api.url, chain_id=api.chain_id)
        client.orders("app", app="any")  # first sync of the hub's events, not timed
        table.append(
            ("GET /challenge", N_SAMPLES, *_stats(_time(lambda i: client.authorization(dev.key))))
        )
        fresh = [
            sign(AppOrder(app=apps[i % 9], appprice=i, volume=5, salt=rng.randbytes(32)), dev.key)
            for i in range(N_SAMPLES)
        ]
        samples = []
        hashes = []
        for order in fresh:
            auth = client.authorization(dev.key)  # one live challenge per address: not timed
            body = {"order": order_json(order, numbers=False)}
            t = time.perf_counter()
            status, res = client.call(
                "POST", "/apporders", json_body=body, headers={"Authorization": auth}
            )
            samples.append(time.perf_counter() - t)
            assert status == 200, res
            hashes.append(res["published"]["orderHash"])
        table.append(("POST /apporders (publish, full checks)", len(samples), *_stats(samples)))

        queries = {
            "GET /apporders app=<one app>, page of 20": ("app", {"app": apps[3]}),
            "GET /apporders app=any requester=any, page of 20": (
                "app",
                {"app": "any", "requester": "any"},
            ),
            "GET /apporders ... minTag=tee": (
                "app",
                {"app": "any", "minTag": "0x" + Tag.TEE.to_bytes32().hex()},
            ),
            "GET /workerpoolorders category, minTrust, page of 20": (
                "workerpool",
                {"category": 2, "minTrust": 3},
            ),
            "GET /workerpoolorders requester=<r>, pageIndex=40": (
                "workerpool",
                {"requester": sb.requester.address, "pageIndex": 40, "pageSize": 20},
            ),
        }
        for name, (kind, q) in queries.items():
            page = client.orders(kind, **q)
            samples = _time(lambda i, kind=kind, q=q: client.orders(kind, **q))
            table.append((f"{name} ({page['count']:,} match)", len(samples), *_stats(samples)))

        def after_block(i):
            hub.mint(sb.requester.address, 1)  # a new block, not timed below
            t0 = time.perf_counter()
            client.orders("app", app=apps[3])
            return time.perf_counter() - t0

        samples = [after_block(i) for i in range(30)]
        table.append(("GET /apporders after a new block (event sync)", 30, *_stats(samples)))
        samples = _time(lambda i: client.order("app", hashes[i]))
        table.append(("GET /apporders/<hash>", len(samples), *_stats(samples)))
        samples = []
        for h in hashes[:50]:
            auth = client.authorization(dev.key)
            t = time.perf_counter()
            status, res = client.call(
                "PUT", "/apporders", json_body={"orderHash": h}, headers={"Authorization": auth}
            )
            samples.append(time.perf_counter() - t)
            assert status == 200, res
        table.append(("PUT /apporders (unpublish by hash)", len(samples), *_stats(samples)))
    notes.append(f"book after the run: {len(book):,} orders")
    book.close()
    return table, notes


def main() -> None:
    """Print the table (milliseconds, as the HTTP client sees them)."""
    table, notes = run()
    for n in notes:
        print(n)
    print()
    width = max(len(r[0]) for r in table)
    print(
        f"{'request (10,000 orders in the book)':<{width}}  {'n':>4}  "
        f"{'median ms':>9}  {'p95 ms':>8}  {'mean ms':>8}"
    )
    for name, n, med, p95, mean in table:
        print(f"{name:<{width}}  {n:>4}  {med:>9.2f}  {p95:>8.2f}  {mean:>8.2f}")


if __name__ == "__main__":
    main()
