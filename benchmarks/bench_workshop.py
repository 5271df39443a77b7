"""Workshop mode benchmark (issue 16): worker processes against the scheduler's API.

- tasks per minute for a deal with 1, 2, 4 and 8 worker processes, at trust 1 and trust 5, with
  the NumPy engine (volume VOLUME, default 40) and with GIMP (volume GIMP_VOLUME, default 10: a
  GIMP run costs about 2 s of CPU here, so 40 of them at trust 5, 120 runs, would take the
  benchmark's whole budget on 2 cores). One node per worker count: its deals run in the order
  trust 1 NumPy, trust 1 GIMP, trust 5 GIMP, trust 5 NumPy. Trust 1 changes no score (one
  contributor); at trust 5 PoCo raises the scores of the workers who agreed, so a worker that
  reaches 12 weighs 3 and fewer workers reach a consensus: the last deal sees that, as a real
  pool does. At trust 5 new workers need 3 agreeing contributions (8 * 5 > 9 * 4): 1 or 2
  workers cannot complete a task, said in the table;
- the cold demo (3 workers, trust 5, one task, GIMP when installed) deal-to-finalized: worker
  processes computing concurrently vs the in-process drive (workers one after another);
- the scheduler's memory (RSS) and CPU as a process (`iexec-kit scheduler`) with 50 registered
  workers pinging every second.

    .venv/bin/python -m benchmarks workshop
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "workshop"))

VOLUME = int(os.environ.get("IEXEC_KIT_BENCH_WORKSHOP_VOLUME", "40"))
GIMP_VOLUME = int(os.environ.get("IEXEC_KIT_BENCH_WORKSHOP_GIMP_VOLUME", "10"))
WORKERS = (1, 2, 4, 8)
#: which parts run (a comma-separated subset): the throughput table, the cold demo, the scheduler
PARTS = set(
    os.environ.get("IEXEC_KIT_BENCH_WORKSHOP_PARTS", "throughput,cold,scheduler").split(",")
)
MIN_TRUST5_WORKERS = 3  # new workers (weight 2) at trust 5: 8 * 5 > 9 * 4


def _node(folder, **kw):
    from iexec_kit.node import Node, NodeConfig

    return Node(folder, config=NodeConfig(**kw)).start()


def _deal_seconds(node, *, volume: int, trust: int, engine: str) -> float:
    from workshop_helpers import buy, wait_done

    started = time.monotonic()
    deal = buy(node, volume=volume, trust=trust, engine=engine)
    st = wait_done(node, deal, 900)
    assert all(s.name == "COMPLETED" for s in st), st
    return time.monotonic() - started


def throughput(n: int, engine: str) -> dict:
    """{(trust, engine): tasks per minute} on one node with ``n`` worker processes."""
    from workshop_helpers import wait_for

    out = {}
    with tempfile.TemporaryDirectory() as d, _node(d, workers=n, workerpool="processes") as node:
        wait_for(lambda: len(node.pool.view()["workers"]) == n, 120, "workers registered")
        for trust, eng in ((1, "numpy"), (1, engine), (5, engine), (5, "numpy")):
            if (trust, eng) in out or (trust == 5 and n < MIN_TRUST5_WORKERS):
                continue
            volume = VOLUME if eng == "numpy" else GIMP_VOLUME
            seconds = _deal_seconds(node, volume=volume, trust=trust, engine=eng)
            out[trust, eng] = volume / seconds * 60
            print(
                f"  {n} worker(s), trust {trust}, {eng}: {out[trust, eng]:.1f} tasks/min",
                file=sys.stderr,
                flush=True,
            )
    return out


def cold_demo(mode: str, engine: str) -> float:
    from workshop_helpers import wait_for

    with tempfile.TemporaryDirectory() as d, _node(d, workers=3, workerpool=mode) as node:
        if mode == "processes":
            wait_for(lambda: len(node.pool.view()["workers"]) == 3, 60, "workers registered")
        return _deal_seconds(node, volume=1, trust=5, engine=engine)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scheduler_with_50() -> tuple[int, int, float]:
    """(RSS KiB idle, RSS KiB with 50 workers, CPU % with 50 pinging)."""
    import secrets

    from workshop_helpers import free_port, start_scheduler

    from iexec_kit.actors.pool import SchedulerClient
    from iexec_kit.node import stop_process

    with tempfile.TemporaryDirectory() as d, _node(d, workers=1, workerpool="external") as node:
        (node.folder / "logs").mkdir(exist_ok=True)
        proc, url = start_scheduler(node, free_port())
        try:
            time.sleep(2)
            idle = _rss_kb(proc.pid)
            clients = [
                SchedulerClient(url, "0x" + secrets.token_hex(32), name=f"w{i}", behaviour="honest")
                for i in range(50)
            ]
            for c in clients:
                c.sign_in()
            stop = threading.Event()

            def pinger(c):
                while not stop.wait(1.0):
                    c.ping()

            threads = [threading.Thread(target=pinger, args=(c,), daemon=True) for c in clients]
            for t in threads:
                t.start()
            cpu0, t0 = _cpu_seconds(proc.pid), time.monotonic()
            time.sleep(10)
            cpu = (_cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0) * 100
            loaded = _rss_kb(proc.pid)
            stop.set()
        finally:
            stop_process(proc)
    return idle, loaded, cpu


def _throughput_table(engine: str) -> None:
    table = {n: throughput(n, engine) for n in WORKERS}
    rows = []
    for trust in (1, 5):
        for eng in dict.fromkeys(("numpy", engine)):
            volume = VOLUME if eng == "numpy" else GIMP_VOLUME
            base = table[1].get((trust, eng)) or table[MIN_TRUST5_WORKERS + 1].get((trust, eng))
            cells = []
            for n in WORKERS:
                tpm = table[n].get((trust, eng))
                cells.append(
                    "n/a (PoCo: 3 new workers)" if tpm is None else f"{tpm:.1f} (x{tpm / base:.2f})"
                )
            rows.append((f"tasks/min, volume {volume}, trust {trust}, {eng}", *cells))
    width = max(len(r[0]) for r in rows)
    print(f"{'workers:':<{width}}  " + "  ".join(f"{n:>26}" for n in WORKERS))
    for what, *cells in rows:
        print(f"{what:<{width}}  " + "  ".join(f"{c:>26}" for c in cells))
    print("(x: against 1 worker at trust 1, against 4 workers at trust 5)")


def main() -> None:
    engine = "gimp" if shutil.which("gimp") else "numpy"
    started = time.monotonic()
    if "throughput" in PARTS:
        _throughput_table(engine)
    other = []
    if "cold" in PARTS:
        drive = cold_demo("drive", engine)
        procs = cold_demo("processes", engine)
        what = f"cold demo deal-to-finalized, 3 workers trust 5, {engine}"
        other.append((f"{what}: in-process drive", f"{drive:.1f} s"))
        other.append((f"{what}: worker processes", f"{procs:.1f} s (x{drive / procs:.2f})"))
    if "scheduler" in PARTS:
        idle, loaded, cpu = scheduler_with_50()
        other.append(
            (
                "scheduler process RSS, idle / 50 registered workers",
                f"{idle / 1024:.0f} / {loaded / 1024:.0f} MiB",
            )
        )
        other.append(("scheduler process CPU with 50 workers pinging every 1 s", f"{cpu:.1f} %"))
    other.append(
        (
            "benchmark wall time; load average (1 min) at the end",
            f"{time.monotonic() - started:.0f} s; {os.getloadavg()[0]:.1f}",
        )
    )
    width = max(len(r[0]) for r in other)
    for what, value in other:
        print(f"{what:<{width}}  {value}")


if __name__ == "__main__":
    main()
