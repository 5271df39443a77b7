"""Benchmarks of the tutorial's notebooks; prints two tables.

    .venv/bin/python -m benchmarks tutorial

- the nbmake time of each notebook: the notebook run top to bottom in a new kernel by nbclient
  (the engine nbmake drives), kernel start included, as shipped (exercises blank), with the
  defaults (no saved choices); the goal is under 15 s each and under 90 s for all on this
  machine;
- in a real browser (tests/ui/test_browser.py: JupyterLab and Debian's chromium, one for all the
  notebooks): the time from Run All to the last widget rendered for 03 (the request builder's
  Buy), 05 (the execution player) and 06 (the result viewer's image), and each notebook's run.
  Skipped when ``IEXEC_KIT_BENCH_BROWSER=0`` or when the test skips (no chromium).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("0[0-8]_*.ipynb"))  # the tutorial (09: the CLI)
GOAL_EACH, GOAL_ALL = 15.0, 90.0


def nbmake_time(path: Path, env: dict) -> tuple[float, str]:
    """Seconds to run ``path`` in a new kernel (nbclient, as nbmake does); and 'ok' or the error."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    old = dict(os.environ)
    os.environ.update(env)
    t = time.perf_counter()
    try:
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": path.parent}}
        ).execute(stderr=subprocess.DEVNULL)  # the kernel's start-up warnings, out of the table
        status = "ok"
    except CellExecutionError as exc:
        status = f"raised: {str(exc).strip().splitlines()[-1][:60]}"
    finally:
        os.environ.clear()
        os.environ.update(old)
    return time.perf_counter() - t, status


def browser_times() -> dict | None:
    """Run the browser test once; return its times (None when it skipped or failed)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "times.json"
        r = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-s", "tests/ui/test_browser.py"],
            cwd=REPO,
            env=os.environ | {"IEXEC_KIT_BROWSER_TIMES": str(out), "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=1200,
        )
        if r.returncode != 0 or not out.exists():
            tail = (r.stdout + r.stderr).strip().splitlines()[-5:]
            print("browser test did not give times:", *tail, sep="\n  ")
            return None
        return json.loads(out.read_text())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"IEXEC_KIT_CHOICES": str(Path(tmp) / "none.json"), "PYTHONPATH": str(REPO)}
        print(f"{'notebook (nbmake: new kernel, top to bottom)':<46} {'s':>6}  status")
        total = 0.0
        for path in NOTEBOOKS:
            took, status = nbmake_time(path, env)
            total += took
            flag = "" if took < GOAL_EACH else f"  (over the {GOAL_EACH:g} s goal)"
            print(f"{path.name:<46} {took:>6.1f}  {status}{flag}")
        flag = "" if total < GOAL_ALL else f"  (over the {GOAL_ALL:g} s goal)"
        print(f"{'all ' + str(len(NOTEBOOKS)):<46} {total:>6.1f}{flag}")
    if os.environ.get("IEXEC_KIT_BENCH_BROWSER", "1") == "0":
        print("\nbrowser: skipped (IEXEC_KIT_BENCH_BROWSER=0)")
        return
    times = browser_times()
    if not times:
        return
    print(
        f"\n{'notebook (JupyterLab + chromium)':<34} {'Run All -> last widget s':>24} "
        f"{'open + run s':>13} {'+ clicks s':>11}"
    )
    for name, t in times.items():
        widget = f"{t['to_last_widget_s']:.1f}" if t.get("to_last_widget_s") else "-"
        print(f"{name:<34} {widget:>24} {t['run_s']:>13.1f} {t['with_clicks_s']:>11.1f}")


if __name__ == "__main__":
    main()
