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
  workers pinging every second;
- where the CPU goes (part ``cpu``): CPU-ms per task of each component (the app runs, the worker
  processes, the Hardhat node, the node process's scheduler loop, its HTTP services and the
  rest) during a NumPy deal (volume VOLUME, trust 1) with 1, then 4 worker processes, each on a
  fresh node after a 4-task warm-up deal, from /proc (user + system time). On a shared machine
  this is the robust figure: tasks per minute move with the other jobs' load, CPU per task
  hardly does.

    .venv/bin/python -m benchmarks workshop
    IEXEC_KIT_BENCH_WORKSHOP_PARTS=cpu .venv/bin/python -m benchmarks workshop   # that part alone
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
    os.environ.get("IEXEC_KIT_BENCH_WORKSHOP_PARTS", "throughput,cold,scheduler,cpu").split(",")
)
CPU_WORKERS = (1, 4)
WARM_UP = 4  # tasks of the deal before the measured one (the worker processes' first imports)
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
    return _cpu_split(f"/proc/{pid}/stat")[0]


def _cpu_split(stat: str) -> tuple[float, float]:
    """(own CPU seconds, CPU seconds of the children it waited for) from a process's
    ``/proc/<pid>/stat`` (or a thread's ``/proc/<pid>/task/<tid>/stat``: its own alone)."""
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tck, (int(fields[13]) + int(fields[14])) / tck


def _threads_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads, by what they are."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        name = names.get(int(task.name), "")
        if name == "iexec-kit-scheduler":
            what = "loop"
        elif name.startswith("iexec-kit-") or name.startswith("AnyIO worker"):
            what = "services"
        else:
            continue
        try:
            out[what] = out.get(what, 0.0) + _cpu_split(str(task / "stat"))[0]
        except OSError:  # the thread ended meanwhile: its CPU counts in "the rest"
            pass
    return out


def _cpu_snapshot(node) -> dict[str, float]:
    from iexec_kit.ui.voila_server import _children as descendants  # the one /proc walk

    snap = {"app": 0.0, "workers": 0.0, "chain": 0.0}
    for proc in node.worker_procs:
        # an app run is a child the worker waits for: its CPU is in the worker's children time
        own, reaped = _cpu_split(f"/proc/{proc.pid}/stat")
        snap["workers"] += own
        snap["app"] += reaped
    if node.devnode is not None:
        for pid in [node.devnode.proc.pid, *descendants(node.devnode.proc.pid)]:
            try:
                snap["chain"] += sum(_cpu_split(f"/proc/{pid}/stat"))
            except OSError:
                pass
    threads = _threads_cpu()
    snap["loop"] = threads.get("loop", 0.0)
    snap["services"] = threads.get("services", 0.0)
    snap["rest"] = _cpu_seconds(os.getpid()) - snap["loop"] - snap["services"]
    return snap


CPU_ROWS = (
    ("app", "app runs (children of the worker processes)"),
    ("workers", "worker processes (HTTP, signing, transactions)"),
    ("chain", "Hardhat node (the chain)"),
    ("loop", "node process: the scheduler's loop"),
    ("services", "node process: HTTP services (scheduler API, IPFS, proxy, SMS, market)"),
    ("rest", "node process: the rest (buying the deal, waiting for it)"),
)


def cpu_per_task(n: int) -> tuple[dict[str, float], float, float]:
    """({component: CPU-ms per task}, tasks per minute, load average after) of a NumPy deal on
    a fresh node with ``n`` worker processes, after a warm-up deal."""
    from workshop_helpers import wait_for

    with tempfile.TemporaryDirectory() as d, _node(d, workers=n, workerpool="processes") as node:
        wait_for(lambda: len(node.pool.view()["workers"]) == n, 120, "workers registered")
        _deal_seconds(node, volume=WARM_UP, trust=1, engine="numpy")
        before = _cpu_snapshot(node)
        seconds = _deal_seconds(node, volume=VOLUME, trust=1, engine="numpy")
        after = _cpu_snapshot(node)
    ms = {k: (after[k] - before[k]) * 1000 / VOLUME for k in after}
    print(f"  cpu: {n} worker(s): {VOLUME / seconds * 60:.1f} tasks/min", file=sys.stderr)
    return ms, VOLUME / seconds * 60, os.getloadavg()[0]


def _cpu_table() -> None:
    table = {n: cpu_per_task(n) for n in CPU_WORKERS}
    head = f"CPU-ms per task, NumPy volume {VOLUME}, trust 1, after a {WARM_UP}-task warm-up"
    rows = [(what, [f"{table[n][0][k]:.0f}" for n in CPU_WORKERS]) for k, what in CPU_ROWS]
    totals = {n: sum(table[n][0].values()) for n in CPU_WORKERS}
    rows.append(("total", [f"{totals[n]:.0f}" for n in CPU_WORKERS]))
    tpm = {n: table[n][1] for n in CPU_WORKERS}
    base = tpm[CPU_WORKERS[0]]
    rows.append(("tasks/min", [f"{tpm[n]:.1f} (x{tpm[n] / base:.2f})" for n in CPU_WORKERS]))
    busy = [f"{totals[n] * tpm[n] / 60_000:.2f}" for n in CPU_WORKERS]  # ms/task * tasks/ms
    rows.append(("cores busy (CPU / wall time)", busy))
    load = [f"{table[n][2]:.1f}" for n in CPU_WORKERS]
    rows.append(("load average (1 min) after the deal", load))
    width = max(len(head), *(len(r[0]) for r in rows))
    print(f"{head:<{width}}  " + "  ".join(f"{f'{n} worker(s)':>14}" for n in CPU_WORKERS))
    for what, cells in rows:
        print(f"{what:<{width}}  " + "  ".join(f"{c:>14}" for c in cells))


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
    if "cpu" in PARTS:
        _cpu_table()
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
