"""Benchmarks of the whole demo (`iexec-kit demo`), cold, as a learner runs it; prints tables.

    .venv/bin/python -m benchmarks.bench_demo

- cold wall time of ``iexec-kit demo`` with 3 workers (a new process: imports, chain, storage,
  deal, consensus, download), with the app's default engine (GIMP when installed) and with the
  NumPy engine; and the time from the deal to the task finalized;
- throughput: tasks per minute with ``--volume 20 --workers 5 --trust 5`` (NumPy engine);
- gas per PoCo operation (median over the runs) against the real PoCo's test-suite averages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = [str(Path(sys.executable).with_name("iexec-kit"))]
# POCO.md: gas of the real PoCo v5.3 (test-suite averages)
REAL_GAS = {
    "matchOrders": 760_843,
    "initialize": 225_506,
    "contribute": 346_973,
    "reveal": 78_544,
    "finalize": 403_856,
    "claim": 181_535,
    "reopen": 84_922,
    "deposit": 91_581,
}


def demo(*args: str, timeout: float = 600) -> tuple[float, dict]:
    """Run ``iexec-kit demo --json ARGS`` in a new process; return (wall seconds, summary)."""
    t = time.perf_counter()
    out = subprocess.run(
        CLI + ["demo", "--json", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
        env=os.environ | {"PYTHONHASHSEED": "0"},
    )
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(
            f"iexec-kit demo {' '.join(args)} failed:\n{out.stderr[-2000:]}\n{out.stdout[-2000:]}"
        )
    return wall, json.loads(out.stdout)


def main() -> None:
    runs = []
    print(f"{'run':<46} {'wall s':>7} {'deal->final s':>14} {'tasks/min':>10}")
    for label, args in (
        ("demo, 3 workers, default engine", ["--workers", "3"]),
        ("demo, 3 workers, --engine numpy", ["--workers", "3", "--engine", "numpy"]),
        (
            "--volume 20 --workers 5 --trust 5 (numpy)",
            ["--volume", "20", "--workers", "5", "--trust", "5", "--engine", "numpy"],
        ),
    ):
        wall, s = demo(*args)
        runs.append(s)
        t = s["timings"]["deal_to_finalized"]
        per_min = len(s["tasks"]) / t * 60
        print(f"{label:<46} {wall:>7.2f} {t:>14.2f} {per_min:>10.1f}")
        print("    phases: " + ", ".join(f"{k} {v:.2f}" for k, v in s["timings"].items()))
    print(f"\n{'operation':<14} {'kit gas':>10} {'real PoCo':>10} {'ratio':>6}")
    gas: dict[str, list[int]] = {}
    for s in runs:
        for op, g in s["gas"].items():
            gas.setdefault(op, []).append(g)
    for op in sorted(gas):
        kit = sorted(gas[op])[len(gas[op]) // 2]
        real = REAL_GAS.get(op)
        print(f"{op:<14} {kit:>10,} {real or 0:>10,} {kit / real if real else float('nan'):>6.2f}")


if __name__ == "__main__":
    main()
