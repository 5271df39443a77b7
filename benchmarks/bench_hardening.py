"""Hardening benchmark: the resource attacks of the security review, measured (run it on the
code before and after the fixes to compare): a pin/ls over repeated links, a get of a 1 GiB
file made of 3 blocks, an ipfs:// input declaring 256 MiB, a cut multipart add,
unauthenticated proxy uploads, a client trickling its headers, a challenge flood and the mode
of the private results folder.

    .venv/bin/python -m benchmarks hardening
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

from iexec_kit.storage.cids import RAW, cid_of_block
from iexec_kit.storage.dagpb import DataType, PBLink, PBNode, UnixfsData


def _tower(node, levels: int, fanout: int, leaf: bytes):
    """``levels`` file nodes over one leaf, each linking the one below ``fanout`` times."""
    cid = cid_of_block(leaf, codec=RAW, version=1)
    node.blocks.put(cid, leaf)
    size, blen = len(leaf), len(leaf)
    for _ in range(levels):
        data = UnixfsData(DataType.FILE, None, size * fanout, (size,) * fanout)
        links = tuple(PBLink(bytes(cid), "", blen) for _ in range(fanout))
        raw = PBNode(links, data.encode()).encode()
        cid = cid_of_block(raw)
        node.blocks.put(cid, raw)
        size, blen = size * fanout, len(raw)
    return cid, size


def _safe(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001  (a leg that fails is reported, not fatal)
        return f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:60]}"


def bench_pin_ls(tmp: Path) -> list[tuple[str, str]]:
    import requests

    from iexec_kit.storage.daemon import IpfsDaemon

    with IpfsDaemon(tmp / "pin") as d:
        root, _ = _tower(d.node, 4, 42, b"x" * 16)
        d.node._pin(str(root), "recursive")
        out: dict = {}

        def run():
            t = time.perf_counter()
            out["res"] = _safe(
                lambda: requests.post(f"{d.api_url}/api/v0/pin/ls", timeout=120).status_code
            )
            out["s"] = time.perf_counter() - t

        th = threading.Thread(target=run, daemon=True)
        th.start()
        time.sleep(0.05)
        t = time.perf_counter()
        ver = _safe(lambda: requests.post(f"{d.api_url}/api/v0/version", timeout=60).status_code)
        lat = time.perf_counter() - t
        th.join(130)
    return [
        ("pin/ls type=all, 5 blocks, 42**4 paths", f"{out['s']:.2f} s (HTTP {out['res']})"),
        ("  /version latency meanwhile", f"{lat:.2f} s (HTTP {ver})"),
    ]


def bench_get(tmp: Path) -> list[tuple[str, str]]:
    import requests

    from iexec_kit.storage.daemon import IpfsDaemon

    with IpfsDaemon(tmp / "get") as d:
        root, size = _tower(d.node, 2, 64, os.urandom(256 * 1024))
        free = shutil.disk_usage(tempfile.gettempdir()).free
        t = time.perf_counter()
        res = requests.post(
            f"{d.api_url}/api/v0/get", params={"arg": str(root)}, stream=True, timeout=300
        )
        got = 0
        for chunk in res.iter_content(1 << 16):
            got += len(chunk)
            if got >= 1 << 20:
                break
        first = time.perf_counter() - t
        used = free - shutil.disk_usage(tempfile.gettempdir()).free
        res.close()
    return [
        (f"get of {size >> 20} MiB declared (3 blocks): first MiB", f"{first:.2f} s"),
        ("  temp disk used when the first MiB arrives", f"{max(used, 0) / 2**20:.0f} MiB"),
    ]


def bench_fetch(tmp: Path) -> list[tuple[str, str]]:
    from iexec_kit.compute.fetch import fetch_inputs
    from iexec_kit.storage.node import IpfsNode

    node = IpfsNode(tmp / "fetch")
    root, size = _tower(node, 2, 32, os.urandom(256 * 1024))  # 256 MiB declared
    tracemalloc.start()
    t = time.perf_counter()
    outcome = _safe(lambda: fetch_inputs([f"ipfs://{root}"], tmp / "in", ipfs_cat=node.cat))
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return [
        (f"ipfs:// input, {size >> 20} MiB declared, 50 MiB cap", f"{seconds:.2f} s"),
        ("  peak memory (tracemalloc)", f"{peak / 2**20:.1f} MiB ({str(outcome)[:48]})"),
    ]


def bench_add(tmp: Path) -> list[tuple[str, str]]:
    import requests

    from iexec_kit.storage.daemon import IpfsDaemon

    b = "bnd"
    part = (
        f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        "Content-Type: application/octet-stream\r\n\r\nalpha\r\n"
    ).encode()
    with IpfsDaemon(tmp / "add") as d:
        res = requests.post(
            f"{d.api_url}/api/v0/add",
            data=part + part.replace(b"a.txt", b"b.txt")[:-8],
            headers={"Content-Type": f"multipart/form-data; boundary={b}"},
            timeout=30,
        )
        pins = len(d.node.pin_ls("all"))
    return [("add without closing boundary", f"HTTP {res.status_code}, {pins} pin(s) made")]


def _trickle(url: str, seconds: float = 15.0) -> str:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n")
        sock.settimeout(0.1)
        t, cut = time.perf_counter(), False
        while time.perf_counter() - t < seconds and not cut:
            try:
                sock.sendall(b"X")
                cut = sock.recv(1) == b""
            except TimeoutError:
                pass
            except OSError:
                cut = True
            time.sleep(0.5)
        waited = time.perf_counter() - t
    return f"cut after {waited:.1f} s" if cut else f"still open after {waited:.0f} s"


def bench_proxy(tmp: Path) -> list[tuple[str, str]]:
    import requests

    from iexec_kit.storage.auth import Authenticator
    from iexec_kit.storage.oracle import StaticTaskOracle
    from iexec_kit.storage.proxy import ResultProxy

    rows = []
    body = os.urandom(20 * 1024 * 1024)
    with ResultProxy(StaticTaskOracle(), None, tmp / "proxy", chain_id=1) as proxy:
        url = f"{proxy.url}/v1/results/0x{'7a' * 32}"
        tracemalloc.start()
        t = time.perf_counter()
        codes = {_safe(lambda: requests.post(url, data=body, timeout=60).status_code)}
        for _ in range(7):
            codes.add(_safe(lambda: requests.post(url, data=body, timeout=60).status_code))
        seconds = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append(
            (
                "8 unauthenticated 20 MB uploads",
                f"{seconds:.2f} s, peak {peak / 2**20:.0f} MiB, {sorted(map(str, codes))}",
            )
        )
        rows.append(("client trickling its headers", _trickle(proxy.url)))
    auth = Authenticator(1)
    t = time.perf_counter()
    for _ in range(3100):
        auth.issue_challenge(1)
    rows.append(
        ("3,100 challenges issued", f"{len(auth._live)} kept ({time.perf_counter() - t:.2f} s)")
    )
    private = tmp / "proxy" / "private"
    rows.append(("private results folder mode", oct(stat.S_IMODE(private.stat().st_mode))))
    return rows


def main() -> None:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-hardening-") as tmp:
        tmp = Path(tmp)
        for leg in (bench_pin_ls, bench_get, bench_fetch, bench_add, bench_proxy):
            result = _safe(lambda leg=leg: leg(tmp))
            rows += result if isinstance(result, list) else [(leg.__name__, result)]
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  result")
    print(f"{'-' * width}  {'-' * 40}")
    for what, result in rows:
        print(f"{what:<{width}}  {result}")


if __name__ == "__main__":
    main()
