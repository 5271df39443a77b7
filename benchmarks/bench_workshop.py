"""Workshop mode benchmark (issue 16): worker processes against the scheduler's API.

- tasks per minute for a deal of volume VOLUME (default 20) at trust 1, NumPy engine, with 1, 2
  and 4 worker processes (each row a fresh node; the workers registered before the deal);
- the cold demo (3 workers, trust 5, one task, GIMP when installed) deal-to-finalized: worker
  processes computing concurrently vs the in-process drive (workers one after another);
- the done-when: 3 honest workers warmed up, then 2 colluding join, a volume-10 deal at trust 5;
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

VOLUME = int(os.environ.get("IEXEC_KIT_BENCH_WORKSHOP_VOLUME", "20"))


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


def throughput(n: int) -> float:
    from workshop_helpers import wait_for

    with tempfile.TemporaryDirectory() as d, _node(d, workers=n, workerpool="processes") as node:
        wait_for(lambda: len(node.pool.view()["workers"]) == n, 60, "workers registered")
        seconds = _deal_seconds(node, volume=VOLUME, trust=1, engine="numpy")
    return VOLUME / seconds * 60


def cold_demo(mode: str, engine: str) -> float:
    from workshop_helpers import wait_for

    with tempfile.TemporaryDirectory() as d, _node(d, workers=3, workerpool=mode) as node:
        if mode == "processes":
            wait_for(lambda: len(node.pool.view()["workers"]) == 3, 60, "workers registered")
        return _deal_seconds(node, volume=1, trust=5, engine=engine)


def done_when() -> float:
    from test_workshop_deal import colluding_deal, warm_up

    with tempfile.TemporaryDirectory() as d:
        node = _node(d, workers=5, workerpool="processes", behaviours=("honest",) * 3)
        with node:
            warm_up(node)
            _, seconds = colluding_deal(node, 10)
    return seconds


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


def main() -> None:
    engine = "gimp" if shutil.which("gimp") else "numpy"
    rows = []
    base = None
    for n in (1, 2, 4):
        tpm = throughput(n)
        base = base or tpm
        rows.append(
            (
                f"volume {VOLUME}, trust 1, numpy, {n} worker process(es)",
                f"{tpm:.1f} tasks/min",
                f"x{tpm / base:.2f}",
            )
        )
    drive = cold_demo("drive", engine)
    procs = cold_demo("processes", engine)
    rows.append(
        (
            f"cold demo deal-to-finalized, 3 workers trust 5, {engine}: in-process drive",
            f"{drive:.1f} s",
            "",
        )
    )
    rows.append(
        (
            f"cold demo deal-to-finalized, 3 workers trust 5, {engine}: worker processes",
            f"{procs:.1f} s",
            f"x{drive / procs:.2f}",
        )
    )
    rows.append(
        (
            "done-when: volume 10, trust 5, 3 honest (warmed up) + 2 colluding processes",
            f"{done_when():.1f} s",
            "",
        )
    )
    idle, loaded, cpu = scheduler_with_50()
    rows.append(
        (
            "scheduler process RSS, idle / 50 registered workers",
            f"{idle / 1024:.0f} / {loaded / 1024:.0f} MiB",
            "",
        )
    )
    rows.append(("scheduler process CPU with 50 workers pinging every 1 s", f"{cpu:.1f} %", ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>18}  ratio")
    for what, value, ratio in rows:
        print(f"{what:<{width}}  {value:>18}  {ratio}")


if __name__ == "__main__":
    main()
