"""Foundation figures: import time, cold Sandbox start, `iexec-kit info` wall time.

Run: ``.venv/bin/python -m benchmarks.bench_foundation`` (or ``make bench`` for every benchmark).
Each figure is the median of several fresh processes, so caches of the previous run do not help.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEAT = 5


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def _median(cmd: list[str]) -> tuple[float, float, float]:
    runs = [_wall(cmd) for _ in range(REPEAT)]
    return statistics.median(runs), min(runs), max(runs)


def rows() -> list[tuple[str, float, float, float, str]]:
    py = sys.executable
    base = _median([py, "-c", "pass"])
    out = [("python startup (baseline)", *base, "")]
    out.append(("import iexec_kit", *_median([py, "-c", "import iexec_kit"]), ""))
    out.append(
        (
            "import iexec_kit.sandbox (web3, eth-account)",
            *_median([py, "-c", "import iexec_kit.sandbox"]),
            "",
        )
    )
    out.append(
        (
            "cold Sandbox.start() incl. imports",
            *_median([py, "-c", "from iexec_kit import Sandbox; Sandbox.start()"]),
            "",
        )
    )
    cli = str(Path(py).parent / "iexec-kit")
    info = _median([cli, "info"])
    out.append(
        (
            "`iexec-kit info` wall time",
            *info,
            "goal < 3 s: " + ("met" if info[0] < 3 else "NOT met"),
        )
    )
    out.append(("`iexec-kit info --json` wall time", *_median([cli, "info", "--json"]), ""))
    return out


def in_process_breakdown() -> list[tuple[str, float]]:
    """Where a Sandbox start spends its time, in this process (imports already paid)."""
    from iexec_kit.chain import Chain
    from iexec_kit.chain.deploy import deploy_protocol
    from iexec_kit.sandbox import Sandbox

    t0 = time.perf_counter()
    chain = Chain.in_process()
    t1 = time.perf_counter()
    deploy_protocol(chain)
    t2 = time.perf_counter()
    Sandbox.start()
    t3 = time.perf_counter()
    return [
        ("new in-process chain", t1 - t0),
        ("deploy protocol (token, hub + 5 modules, 3 registries, set-up)", t2 - t1),
        ("whole Sandbox.start() (warm imports)", t3 - t2),
    ]


def main() -> None:
    print(f"Foundation benchmarks (median of {REPEAT} fresh processes, seconds)")
    print(f"{'what':60} {'median':>8} {'min':>8} {'max':>8}  note")
    for name, med, lo, hi, note in rows():
        print(f"{name:60} {med:8.3f} {lo:8.3f} {hi:8.3f}  {note}")
    print()
    print(f"{'in-process breakdown':60} {'seconds':>8}")
    for name, sec in in_process_breakdown():
        print(f"{name:60} {sec:8.3f}")


if __name__ == "__main__":
    main()
