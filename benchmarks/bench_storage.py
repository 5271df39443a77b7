"""Storage benchmark: add/cat throughput of the kit's IPFS node (1 MB and 100 MB), against
plain sha256 of the same bytes (the floor) and Debian's /usr/bin/ipfs_cid; gateway first-byte
latency.

    .venv/bin/python -m benchmarks.bench_storage
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

SIZES = {"1 MB": 1_000_000, "100 MB": 100_000_000}


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _row(rows, what, size, seconds):
    rows.append((what, size, seconds * 1000, SIZES[size] / seconds / 1e6 if seconds else 0.0))


def main() -> None:
    import requests

    from iexec_kit.storage.daemon import IpfsDaemon
    from iexec_kit.storage.kubo import KuboClient
    from iexec_kit.storage.node import IpfsNode

    rows: list[tuple[str, str, float, float]] = []
    latency: list[tuple[str, float, float]] = []
    ipfs_cid = shutil.which("ipfs_cid")
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        tmp = Path(tmp)
        for label, size in SIZES.items():
            data = os.urandom(size)
            path = tmp / f"f{size}"
            path.write_bytes(data)
            repeat = 5 if size < 10_000_000 else 2
            _row(
                rows,
                "sha256 (floor)",
                label,
                _best(lambda data=data: hashlib.sha256(data).digest(), repeat),
            )
            if ipfs_cid:
                _row(
                    rows,
                    "/usr/bin/ipfs_cid FILE",
                    label,
                    _best(
                        lambda path=path: subprocess.run(
                            [ipfs_cid, str(path)], capture_output=True, check=True
                        ),
                        repeat,
                    ),
                )
            node = IpfsNode(tmp / f"repo-{size}")
            _row(
                rows,
                "kit add --only-hash",
                label,
                _best(lambda node=node, data=data: node.add_bytes(data, only_hash=True), repeat),
            )

            def add_fresh(path=path):
                shutil.rmtree(tmp / "fresh", ignore_errors=True)
                IpfsNode(tmp / "fresh").add_path(path)

            _row(rows, "kit add (to disk repo)", label, _best(add_fresh, repeat))
            cid = node.add_path(path)
            _row(
                rows,
                "kit cat (verified reads)",
                label,
                _best(lambda node=node, cid=cid: node.cat(cid), repeat),
            )
            with IpfsDaemon(node) as daemon:
                client = KuboClient(daemon.api_url)
                _row(
                    rows,
                    "HTTP /api/v0/add",
                    label,
                    _best(
                        lambda client=client, path=path: client.add_path(path, pin=False), repeat
                    ),
                )
                _row(
                    rows,
                    "HTTP /api/v0/cat",
                    label,
                    _best(lambda client=client, cid=cid: client.cat(cid), repeat),
                )
                url = f"{daemon.gateway_url}/ipfs/{cid}"
                samples = []
                with requests.Session() as http:
                    for _ in range(20):
                        t = time.perf_counter()
                        with http.get(url, stream=True, timeout=60) as res:
                            next(res.iter_content(1))
                            samples.append(time.perf_counter() - t)
                latency.append((label, statistics.median(samples) * 1000, max(samples) * 1000))
            shutil.rmtree(tmp / f"repo-{size}", ignore_errors=True)
            path.unlink()

    print(f"{'operation':<28} {'size':>7} {'time ms':>10} {'MB/s':>9}")
    print("-" * 57)
    for what, size, ms, mbs in rows:
        print(f"{what:<28} {size:>7} {ms:>10.1f} {mbs:>9.1f}")
    print()
    print(f"{'gateway first byte':<28} {'size':>7} {'median ms':>10} {'max ms':>9}")
    print("-" * 57)
    for size, med, worst in latency:
        print(f"{'GET /ipfs/<cid>':<28} {size:>7} {med:>10.2f} {worst:>9.2f}")
    if not ipfs_cid:
        print("\n(/usr/bin/ipfs_cid missing: apt-get install ipfs-cid to compare)")


if __name__ == "__main__":
    main()
