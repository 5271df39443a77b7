"""`iexec-kit node` benchmark: the node's cold start (Hardhat devnode, protocol, IPFS, result
proxy, market API, SMS, workerpool), a deal bought from Python run to COMPLETED by the serving
workerpool, and `iexec app run --watch` of iExec's CLI (deal to COMPLETED, wall time).

    .venv/bin/python -m benchmarks node
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
IEXEC = REPO_ROOT / "node_modules" / ".bin" / "iexec"
RUNS = 3


def _python_deal(node, engine: str) -> float:
    from iexec_kit.actors.requester import buy_execution
    from iexec_kit.poco.orders import RequestParams

    sb = node.sb
    t = time.perf_counter()
    match = buy_execution(
        sb.hub,
        sb.book,
        sb.requester,
        sb.app_address,
        params=RequestParams(args=f"--engine {engine}", input_files=(node.info.sample_input,)),
        workerpool=sb.workerpool_address,
    )
    node.wait_completed(match.deal.task_id(0), timeout=300)
    return time.perf_counter() - t


def _cli(node, *args, timeout=300) -> dict:
    proc = subprocess.run(
        [str(IEXEC), *args, "--raw"],
        cwd=node.folder / "requester",
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_UPDATE_NOTIFIER": "1", "CI": "true"},
    )
    answer = json.loads((proc.stdout.strip() or proc.stderr.strip()).splitlines()[-1])
    if not answer.get("ok"):
        raise RuntimeError(f"iexec {' '.join(args)}: {answer}")
    return answer


def _sdk_run(node, engine: str) -> float:
    t = time.perf_counter()
    _cli(node, *node.info.app_run_args(f"--engine {engine}", force=True))
    return time.perf_counter() - t


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main() -> None:
    from iexec_kit.node import Node, NodeConfig

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        node = Node(Path(tmp) / "node", config=NodeConfig(workers=3)).start()
        cold = time.perf_counter() - t
        rows.append(("cold start (start() to ready)", f"{cold:.1f} s", "1 run"))
        try:
            sb = node.sb
            sb.storage.storage_init(sb.requester.key)
            sb.hub.deposit(sb.requester, 100 * 10**9)
            for engine in ("numpy", "gimp"):
                try:
                    times = [_python_deal(node, engine) for _ in range(RUNS)]
                    rows.append(
                        (
                            f"Python deal -> COMPLETED ({engine})",
                            f"{_median(times):.1f} s",
                            f"median of {RUNS}",
                        )
                    )
                except Exception as exc:  # noqa: BLE001 - a leg that cannot run is reported
                    rows.append((f"Python deal -> COMPLETED ({engine})", "n/a", str(exc)[:60]))
            if IEXEC.exists():
                try:
                    _cli(node, "storage", "init", "--force-update")
                    times = [_sdk_run(node, "numpy") for _ in range(RUNS)]
                    rows.append(
                        (
                            "iexec app run --watch (numpy)",
                            f"{_median(times):.1f} s",
                            f"median of {RUNS}, wall time of the CLI",
                        )
                    )
                except Exception as exc:  # noqa: BLE001
                    rows.append(("iexec app run --watch (numpy)", "n/a", str(exc)[:80]))
        finally:
            node.stop()
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>8}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>8}  {note}")


if __name__ == "__main__":
    main()
