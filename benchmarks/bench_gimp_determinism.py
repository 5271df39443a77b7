"""Is the GIMP engine deterministic under load, and what does pinning babl's paths cost?

    .venv/bin/python -m benchmarks gimp_determinism

Runs the app's GIMP engine on data/chelsea.png RUNS times per style, JOBS at once (the machine's
own load plus these), with babl's conversion paths pinned (apps/gimp-cartoon/babl-fishes, as the
app runs) and unpinned (babl times them, as before the pin), and prints the distinct output
digests, then the wall and CPU seconds of one run alone (median of REPEAT, interleaved).
IEXEC_KIT_BENCH_GIMP_RUNS (default 40), _JOBS (3), _REPEAT (10) change the counts.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import os
import resource
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "apps" / "gimp-cartoon"
PICTURE = REPO / "data" / "chelsea.png"
RUNS = int(os.environ.get("IEXEC_KIT_BENCH_GIMP_RUNS", "40"))
JOBS = int(os.environ.get("IEXEC_KIT_BENCH_GIMP_JOBS", "3"))
REPEAT = int(os.environ.get("IEXEC_KIT_BENCH_GIMP_REPEAT", "10"))


def _app(pinned: bool):
    spec = importlib.util.spec_from_file_location("gimp_cartoon_entry", APP / "entrypoint.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not pinned:
        mod.BABL_FISHES = APP / "no-such-babl-fishes"
    return mod


def _one(app, style: str) -> str:
    """One GIMP run (quiet): the output's sha256."""
    import contextlib
    import io

    with tempfile.TemporaryDirectory(prefix="bench-gimp-") as d:
        dst = Path(d) / "chelsea.png"
        with contextlib.redirect_stderr(io.StringIO()):  # the unpinned run's babl warning
            app.run_gimp([(PICTURE, dst, None)], app.parse_args(["--style", style]))
        return hashlib.sha256(dst.read_bytes()).hexdigest()[:12]


def main() -> None:
    """Print the two tables."""
    if not shutil.which("gimp"):
        print("skipped: gimp is not installed")
        return
    apps = {"pinned": _app(True), "unpinned": _app(False)}
    print(f"distinct digests in {RUNS} runs, {JOBS} at once (load {os.getloadavg()[0]:.1f}):")
    print("| babl paths | style | digests (count) |\n| --- | --- | --- |")
    for name, app in apps.items():
        for style in ("gimpfu", "cartoon"):
            with ThreadPoolExecutor(JOBS) as pool:
                got = collections.Counter(pool.map(_one, [app] * RUNS, [style] * RUNS))
            print(f"| {name} | {style} | {len(got)} ({', '.join(map(str, got.values()))}) |")
    print(f"\none run alone, median of {REPEAT} (load {os.getloadavg()[0]:.1f}):")
    print("| babl paths | style | wall s | CPU s |\n| --- | --- | --- | --- |")
    for style in ("gimpfu", "cartoon"):
        times = {name: ([], []) for name in apps}
        for _ in range(REPEAT):
            for name, app in apps.items():  # interleaved: the load drifts alike for both
                r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
                _one(app, style)
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                times[name][0].append(time.monotonic() - t0)
                times[name][1].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        for name, (walls, cpus) in times.items():
            print(
                f"| {name} | {style} | {statistics.median(walls):.2f} | "
                f"{statistics.median(cpus):.2f} |"
            )


if __name__ == "__main__":
    main()
