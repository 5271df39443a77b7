"""What the LAN fronts of ``iexec-kit node --listen`` add to each call's latency.

    .venv/bin/python -m benchmarks lan

Set-up (not timed): a node with ``listen="127.0.0.1"`` (a Hardhat devnode, the kit's protocol,
IPFS, result proxy, market API, SMS, the scheduler's API, a front before each), its one worker
process stopped so that nothing else runs; two spare wallets signed in to the scheduler, one
directly, one through its front. Each row times one request from the client (requests, one
kept-alive connection per URL), sequential, the direct call and the front's alternating so that
both see the same load; the front's calls carry the token (joined URL) as an attendee's do:

- eth_blockNumber, eth_call (RLC ``balanceOf``), eth_sendRawTransaction (a signed 1-wei
  transfer, pre-signed; the devnode mines it at once): the chain, or its front's JSON-RPC filter;
- IPFS cat of 1 KiB and of 1 MiB (Kubo's ``POST /api/v0/cat``, the whole body read);
- market GET (``/workerpoolorders`` of the node's workerpool, as ``iexec app run`` asks it);
- scheduler ping (``POST /workers/ping`` of a signed-in worker).

Columns: median and p95 in ms, direct and through the front, the ratio of the medians and the
milliseconds the front adds (median).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

N_SAMPLES = 100
N_WARMUP = 5


def _alternate(direct, front, n: int = N_SAMPLES) -> tuple[list, list]:
    """Time ``direct(i)`` and ``front(i)`` in turns (warm-up calls not counted)."""
    for i in range(N_WARMUP):
        direct(-1 - i)
        front(-1 - i)
    d, f = [], []
    for i in range(n):
        for fn, out in ((direct, d), (front, f)):
            t = time.perf_counter()
            fn(i)
            out.append(time.perf_counter() - t)
    return d, f


def _rpc(session, url: str, method: str, params: list):
    res = session.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    answer = res.json()
    if "error" in answer:
        raise RuntimeError(f"{method} at {url}: {answer['error']}")
    return answer["result"]


def _signed_transfers(node, count: int) -> list[str]:
    """``count`` signed 1-wei transfers from the dataset owner (whom nothing else uses), in
    nonce order."""
    from eth_account import Account
    from web3 import Web3

    who = node.sb.dataset_owner
    w3 = Web3(Web3.HTTPProvider(node.info.urls["chain"]))
    nonce = w3.eth.get_transaction_count(who.address, "pending")
    fee = 4 * w3.eth.get_block("latest")["baseFeePerGas"] + 10**9
    out = []
    for i in range(count):
        tx = {
            "to": who.address,
            "value": 1,
            "gas": 21_000,
            "nonce": nonce + i,
            "chainId": node.info.chain_id,
            "maxFeePerGas": fee,
            "maxPriorityFeePerGas": 10**9,
        }
        out.append("0x" + Account.sign_transaction(tx, who.key).raw_transaction.hex())
    return out


def run() -> tuple[list, list]:
    import requests
    from eth_utils import keccak

    from iexec_kit.actors.pool import SchedulerClient
    from iexec_kit.node import Node, NodeConfig, stop_process

    notes, table = [], []
    tmp = tempfile.mkdtemp(prefix="bench-lan-")
    t = time.perf_counter()
    node = Node(
        Path(tmp) / "node",
        port=None,
        config=NodeConfig(
            workers=3, workerpool="processes", behaviours=("honest",), listen="127.0.0.1"
        ),
    ).start()
    notes.append(f"set-up (node with its LAN fronts): {time.perf_counter() - t:.1f} s")
    sessions: dict = {}
    clients: list = []
    try:
        for proc in node.worker_procs:  # the bench's own child: nothing else runs
            stop_process(proc)
        node.worker_procs.clear()
        lan, info, sb = node.lan, node.info, node.sb

        def session(url):
            return sessions.setdefault(url, requests.Session())

        def pair(name, call, direct_url, front_url, n=N_SAMPLES):
            d, f = _alternate(
                lambda i: call(session(direct_url), direct_url, i),
                lambda i: call(session(front_url), front_url, i),
                n,
            )
            table.append((name, n, d, f))

        chain, chain_front = info.urls["chain"], lan.joined("chain")
        pair(
            "eth_blockNumber",
            lambda s, u, i: _rpc(s, u, "eth_blockNumber", []),
            chain,
            chain_front,
        )
        balance_of = "0x" + keccak(text="balanceOf(address)")[:4].hex()
        data = balance_of + "00" * 12 + sb.requester.address[2:].lower()
        call = [{"to": info.rlc, "data": data}, "latest"]
        pair(
            "eth_call (RLC balanceOf)",
            lambda s, u, i: _rpc(s, u, "eth_call", call),
            chain,
            chain_front,
        )
        raws = iter(_signed_transfers(node, 2 * (N_SAMPLES + N_WARMUP)))
        pair(
            "eth_sendRawTransaction",
            lambda s, u, i: _rpc(s, u, "eth_sendRawTransaction", [next(raws)]),
            chain,
            chain_front,
        )

        ipfs = sb.storage.daemon.api_url if sb.storage.daemon else sb.storage.ipfs.base
        for label, size in (("1 KiB", 1024), ("1 MiB", 1024 * 1024)):
            cid = sb.storage.ipfs.add_bytes(os.urandom(size))

            def cat(s, u, i, cid=cid, size=size):
                res = s.post(f"{u}/api/v0/cat", params={"arg": cid})
                if res.status_code != 200 or len(res.content) != size:
                    raise RuntimeError(f"cat at {u}: HTTP {res.status_code}, {len(res.content)} B")

            pair(f"IPFS cat {label}", cat, ipfs, lan.url("ipfs"))

        query = {"chainId": str(info.chain_id), "workerpool": info.workerpool, "category": "0"}

        def orders(s, u, i):
            res = s.get(f"{u}/workerpoolorders", params=query)
            if res.status_code != 200 or not res.json().get("ok"):
                raise RuntimeError(f"market GET at {u}: HTTP {res.status_code} {res.text[:200]}")

        pair("market GET /workerpoolorders", orders, node.market.url, lan.url("market"))

        spare = node.spare_workers()
        clients += [
            SchedulerClient(url, w.key, name=f"bench-{w.name}", behaviour="honest")
            for url, w in ((node.pool.url, spare[0]), (lan.joined("scheduler"), spare[1]))
        ]
        for c in clients:
            c.sign_in()
        d, f = _alternate(lambda i: clients[0].ping(), lambda i: clients[1].ping())
        table.append(("scheduler ping", N_SAMPLES, d, f))
    finally:
        for s in sessions.values():
            s.close()
        for c in clients:
            c.close()
        node.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return table, notes


def main() -> None:
    from benchmarks.bench_market import _stats

    table, notes = run()
    head = ("call", "n", "direct med", "direct p95", "front med", "front p95", "ratio", "added")
    rows = []
    for name, n, d, f in table:
        dm, dp, _ = _stats(d)
        fm, fp, _ = _stats(f)
        rows.append(
            (
                name,
                str(n),
                f"{dm:.2f} ms",
                f"{dp:.2f} ms",
                f"{fm:.2f} ms",
                f"{fp:.2f} ms",
                f"x{fm / dm:.2f}",
                f"+{fm - dm:.2f} ms",
            )
        )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths))
        )
    )
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
            )
        )
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; " + "; ".join(notes))


if __name__ == "__main__":
    main()
