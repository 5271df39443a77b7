"""Benchmarks of the gimp-cartoon app and the runners; prints tables.

    .venv/bin/python -m benchmarks.bench_app

- fidelity: PSNR of the NumPy port against GIMP, per sample picture and style (needs gimp);
- speed: seconds per megapixel of each engine (the filter alone for the port; a whole GIMP batch
  for GIMP, so its figure includes GIMP's start-up);
- runner overhead: one task (numpy engine, one sample) with the process runner and, when a Docker
  engine answers (scripts/docker-engine.sh start; scripts/docker-build-app.sh), the Docker runner.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "apps" / "gimp-cartoon"
SAMPLES = sorted((REPO / "data").glob("*.png")) + sorted((REPO / "data").glob("*.jpg"))
STYLES = {"gimpfu": [], "cartoon": ["--mask-radius", "7", "--pct-black", "0.2"]}


def load_port():
    """The app's cartoon_numpy module."""
    spec = importlib.util.spec_from_file_location("cartoon_numpy", APP / "cartoon_numpy.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 pictures, in dB (inf when identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def run_entrypoint(in_dir: Path, out_dir: Path, style: str, engine: str) -> float:
    """Run the app's entrypoint on every picture of in_dir; return wall seconds."""
    env = {"IEXEC_IN": str(in_dir), "IEXEC_OUT": str(out_dir), "PATH": "/usr/bin:/bin"}
    t = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(APP / "entrypoint.py"),
            "--style",
            style,
            "--engine",
            engine,
            *STYLES[style],
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t


def fidelity_and_speed(port) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    mp = {p.name: Image.open(p).size[0] * Image.open(p).size[1] / 1e6 for p in SAMPLES}
    total_mp = sum(mp.values())
    table = Table(title="NumPy port vs GIMP 2.10 (PSNR, dB)")
    table.add_column("sample")
    for style in STYLES:
        table.add_column(style, justify="right")
    speed = Table(title=f"seconds per megapixel ({len(SAMPLES)} samples, {total_mp:.2f} MP)")
    speed.add_column("engine / style")
    speed.add_column("s/MP", justify="right")
    gimp = shutil.which("gimp") is not None
    results: dict[str, dict[str, float]] = {p.name: {} for p in SAMPLES}
    with tempfile.TemporaryDirectory() as tmp:
        in_dir = Path(tmp) / "in"
        in_dir.mkdir()
        for p in SAMPLES:
            shutil.copy(p, in_dir / p.name)
        for style in STYLES:
            times = []
            for p in SAMPLES:
                rgb = port.flatten_to_rgb(Image.open(p))
                t = time.perf_counter()
                out = port.run_style(rgb, style, n=port.gimpfu_n(p.stat().st_size))
                times.append(time.perf_counter() - t)
                results[p.name][style] = out
            speed.add_row(f"numpy port, {style} (filter only)", f"{sum(times) / total_mp:.3f}")
            t = run_entrypoint(in_dir, Path(tmp) / f"np-{style}", style, "numpy")
            speed.add_row(f"numpy entrypoint, {style} (whole run)", f"{t / total_mp:.3f}")
            if gimp:
                out_dir = Path(tmp) / f"gimp-{style}"
                t = run_entrypoint(in_dir, out_dir, style, "gimp")
                speed.add_row(
                    f"GIMP batch, {style} (whole run, incl. start-up)", f"{t / total_mp:.3f}"
                )
                tiny = Path(tmp) / f"tiny-{style}"
                tiny.mkdir()
                Image.new("RGB", (8, 8), (90, 120, 150)).save(tiny / "tiny.png")
                t0 = run_entrypoint(tiny, Path(tmp) / f"tiny-out-{style}", style, "gimp")
                speed.add_row(
                    f"GIMP batch, {style} (marginal, start-up {t0:.1f} s removed)",
                    f"{max(t - t0, 0.0) / total_mp:.3f}",
                )
                for p in SAMPLES:
                    ref = np.asarray(
                        Image.open(out_dir / "images" / (p.stem + ".png")).convert("RGB")
                    )
                    results[p.name][style] = psnr(results[p.name][style], ref)
    if gimp:
        for name, row in results.items():
            table.add_row(name, *(f"{row[s]:.2f}" for s in STYLES))
        console.print(table)
    else:
        console.print("[yellow]gimp is not installed: no PSNR figures[/]")
    console.print(speed)


def runner_overhead() -> None:
    from rich.console import Console
    from rich.table import Table

    from iexec_kit.compute import DockerRunner, ProcessRunner
    from iexec_kit.compute.errors import ComputeError
    from iexec_kit.errors import IexecKitError

    console = Console()
    sample = REPO / "data" / "chelsea.png"
    table = Table(title="runner overhead: one task, numpy engine, gimpfu, chelsea.png (5 runs)")
    for col in ("runner", "median s", "min s"):
        table.add_column(col, justify="right" if col != "runner" else "left")
    runners = [ProcessRunner()]
    try:
        d = DockerRunner()
        d.image_id(APP)
        runners.append(d)
    except (IexecKitError, ComputeError) as exc:
        console.print(f"[yellow]Docker runner skipped: {str(exc).splitlines()[0]}[/]")
    for r in runners:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            r.run(APP, [sample], "--style gimpfu --engine numpy")
            times.append(time.perf_counter() - t)
        table.add_row(r.name, f"{statistics.median(times):.2f}", f"{min(times):.2f}")
    console.print(table)


def main() -> None:
    """Print the fidelity, speed and runner-overhead tables."""
    port = load_port()
    fidelity_and_speed(port)
    runner_overhead()


if __name__ == "__main__":
    main()
