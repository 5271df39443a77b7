#!/usr/bin/env python3
"""Write apps/gimp-cartoon/babl-fishes: the babl conversion paths the GIMP engine is pinned to.

    .venv/bin/python scripts/pin-babl-fishes.py [--out FILE]

Runs the app's GIMP engine, unpinned, on data/'s samples and on grey, palette, RGBA and 16-bit
versions of chelsea.png, both styles, and keeps the paths babl timed and chose (entrypoint.py,
BABL_FISHES, says why). The paths name babl's extensions as loaded on this CPU: babl loads one
build of each (plain, x86-64-v2 or x86-64-v3) by the CPU's level, so the file pins that level
only (elsewhere the app warns that babl timed its paths). Needed again when babl or the CPU level
changes. Run it on an idle machine, then check that the pinned engine still gives the reference
digests: pytest tests/apps/test_gimp_cartoon.py -k gimp.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "apps" / "gimp-cartoon"
#: babl drops a cached path when its pixel count equals the time in seconds modulo 100 (to
#: re-measure it now and then): a pinned path counts at least this many pixels.
MIN_PIXELS = 100


def _entrypoint():
    spec = importlib.util.spec_from_file_location("gimp_cartoon_entry", APP / "entrypoint.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _inputs(folder: Path) -> list[Path]:
    paths = [Path(shutil.copy(p, folder)) for p in sorted((REPO / "data").glob("*.[jp][pn]g"))]
    im = Image.open(REPO / "data" / "chelsea.png")
    im.convert("L").save(folder / "grey.png")
    im.convert("P").save(folder / "pal.png")
    rgba = np.asarray(im.convert("RGBA")).copy()
    rgba[:100, :, 3] = 60
    Image.fromarray(rgba).save(folder / "rgba.png")
    Image.fromarray(np.asarray(im.convert("L")).astype(np.uint16) * 257).save(folder / "g16.png")
    return paths + [folder / n for n in ("grey.png", "pal.png", "rgba.png", "g16.png")]


def normalise(text: str) -> str:
    """Pixel counts raised to MIN_PIXELS."""
    return re.sub(r"pixels=(\d+)", lambda m: f"pixels={max(int(m.group(1)), MIN_PIXELS)}", text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=APP / "babl-fishes")
    a = p.parse_args()
    app = _entrypoint()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        (tmp / "out").mkdir()
        inputs = _inputs(tmp / "in")
        app.BABL_FISHES = tmp / "fishes"  # absent at first: babl times every path
        for style in ("gimpfu", "cartoon"):
            args = app.parse_args(["--style", style, "--engine", "gimp"])
            names = app.output_names(inputs)
            jobs = [(f, tmp / "out" / n, app.load_checked(f)) for f, n in zip(inputs, names)]
            app.run_gimp(jobs, args, fishes_out=tmp / "next")
            (tmp / "next").replace(app.BABL_FISHES)  # the next style starts from these
        text = normalise(app.BABL_FISHES.read_text())
    a.out.write_text(text)
    print(f"wrote {a.out}: {text.count('----')} conversion paths, {text.splitlines()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
