#!/usr/bin/env python3
"""gimp-cartoon: the iexec-kit demo app. Cartoonizes the pictures of a task, as an iExec app does.

The iExec app contract (shared/reference/POCO.md, "Results (the worker side)"):

- inputs are in $IEXEC_IN, named by IEXEC_INPUT_FILE_NAME_1..IEXEC_INPUT_FILES_NUMBER (when no
  input file is named, every .png/.jpg/.jpeg in $IEXEC_IN is taken, as the original app did);
- results go to $IEXEC_OUT: one PNG per input in $IEXEC_OUT/images/, and
  $IEXEC_OUT/computed.json whose "deterministic-output-path" is that folder, so the consensus
  covers the pictures themselves (the original app covered only a file count);
- on failure: computed.json holds {"error-message": ...} and the exit code is not 0.

Arguments (the request's iexec_args):
  --style gimpfu|cartoon     gimpfu: the original demo's effect (default); cartoon: GIMP's
                             Cartoon filter (plug-in-cartoon)
  --mask-radius R            cartoon only, 0..50 (default 7)
  --pct-black P              cartoon only, 0..1 (default 0.2)
  --engine auto|gimp|numpy   gimp: GIMP in batch mode (Script-Fu); numpy: the NumPy/Pillow port;
                             auto (default): GIMP when it is installed
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
if (HERE / "vendor").is_dir():  # the Docker image vendors the kit's NumPy and Pillow
    sys.path.insert(0, str(HERE / "vendor"))

# NumPy's OpenBLAS starts a thread per core when NumPy is imported, for matrix products this app
# barely has (a 3x3 colour matrix): one thread saves about 60 ms of CPU per run, a quarter of
# NumPy's import here, and leaves the other cores to the other tasks (same bytes out, measured).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

MAX_PIXELS = 40_000_000  # larger pictures are refused (decompression bombs)
# peak memory of the filters per pixel (measured: about 9.6 GiB for a 40 MP picture)
BYTES_PER_PIXEL = 240
MAX_INPUT_BYTES = 50_000_000
FORMATS = {"PNG", "JPEG"}
GIMPRC = """(export-color-profile no)
(export-metadata-exif no)
(export-metadata-xmp no)
(export-metadata-iptc no)
"""
# GIMP queries every plug-in of a fresh profile at start-up (about half of a GIMP run's CPU
# here): only the ones the app calls are on its path (PNG, JPEG, Script-Fu, Cartoon;
# plug-in-vpropagate is GIMP's own), and Script-Fu loads only its .init files, not the 50 stock
# scripts. The pictures are the same, byte for byte (measured on both styles).
GIMP_PLUG_INS = ("script-fu", "file-png", "file-jpeg", "cartoon")
# babl, GEGL's pixel-format library, builds each conversion GIMP asks for at run time: among the
# paths exact on its test pixels it keeps the fastest, timed there and then. They do not round
# alike (gggl's float -> 8-bit rounds halves to even, sse2-int8's and simple's round them up), so
# on a loaded machine a mistimed race changed a few pixels by one level (measured: 7 gimpfu runs
# of 40, 4 pixels of 135 000). babl takes its choices from $XDG_CACHE_HOME/babl/babl-fishes when
# they are there: the app ships them (for babl 0.1.98, Debian 12's), so nothing is timed.
BABL_FISHES = HERE / "babl-fishes"


class AppError(Exception):
    """A failure that ends the task with computed.json's error-message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # noqa: D401
        """Raise instead of exiting: the app contract needs computed.json on bad arguments."""
        raise AppError(f"bad arguments: {message} (usage: {self.format_usage().strip()})")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the app's arguments (iexec_args, split shell-style by the worker)."""
    p = _Parser(prog="gimp-cartoon", add_help=False)
    p.add_argument("--style", choices=["gimpfu", "cartoon"], default="gimpfu")
    p.add_argument("--mask-radius", type=float, default=7.0)
    p.add_argument("--pct-black", type=float, default=0.2)
    p.add_argument("--engine", choices=["auto", "gimp", "numpy"], default="auto")
    a = p.parse_args(argv)
    if not 0.0 <= a.mask_radius <= 50.0:
        raise AppError(f"bad arguments: --mask-radius must be within 0..50, got {a.mask_radius}")
    if not 0.0 <= a.pct_black <= 1.0:
        raise AppError(f"bad arguments: --pct-black must be within 0..1, got {a.pct_black}")
    if a.engine == "auto":
        a.engine = "gimp" if shutil.which("gimp") else "numpy"
    elif a.engine == "gimp" and not shutil.which("gimp"):
        raise AppError(
            "--engine gimp asked but GIMP is not installed here "
            "(install Debian's gimp, or use --engine numpy)"
        )
    return a


def list_inputs(in_dir: Path) -> list[Path]:
    """The input files: IEXEC_INPUT_FILE_NAME_n, else every picture in IEXEC_IN (sorted)."""
    count = int(os.environ.get("IEXEC_INPUT_FILES_NUMBER", "0") or 0)
    if count:
        files = []
        for i in range(1, count + 1):
            name = os.environ.get(f"IEXEC_INPUT_FILE_NAME_{i}")
            if not name:
                raise AppError(
                    f"IEXEC_INPUT_FILE_NAME_{i} is not set (IEXEC_INPUT_FILES_NUMBER is {count})"
                )
            files.append(in_dir / name)
    else:
        files = (
            sorted(
                p
                for p in in_dir.iterdir()
                if p.is_file() and p.suffix.lower() in (".png", ".jpg", ".jpeg")
            )
            if in_dir.is_dir()
            else []
        )
    if not files:
        raise AppError(
            f"no input picture: {in_dir} holds no .png/.jpg file and IEXEC_INPUT_FILES_NUMBER is 0"
        )
    for f in files:
        if not f.is_file():
            raise AppError(f"input file {f.name} is missing from {in_dir}")
    return files


def load_checked(path: Path):
    """Open ``path`` with Pillow and check it is a whole PNG/JPEG of sane size; return it."""
    from PIL import Image

    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise AppError(f"{path.name}: {size} bytes, more than the {MAX_INPUT_BYTES} allowed")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        img = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise AppError(f"{path.name}: picture too large ({exc})") from None
    except Exception as exc:  # noqa: BLE001  (Pillow raises many kinds)
        raise AppError(
            f"{path.name}: not a picture Pillow can read (expected a PNG or JPEG file: {exc})"
        ) from None
    if img.format not in FORMATS:
        raise AppError(f"{path.name}: unsupported format {img.format} (expected PNG or JPEG)")
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise AppError(f"{path.name}: {w}x{h} pixels, more than the {MAX_PIXELS} allowed")
    memory = int(os.environ.get("IEXEC_KIT_MAX_MEMORY", "0") or 0)  # the runner's limit
    if memory and w * h * BYTES_PER_PIXEL > memory:
        raise AppError(
            f"{path.name}: {w}x{h} pixels need about {w * h * BYTES_PER_PIXEL / 2**30:.1f} GiB, "
            f"more than the {memory / 2**30:.1f} GiB this runner allows (use a smaller picture)"
        )
    try:
        img.load()
    except Exception as exc:  # noqa: BLE001
        raise AppError(f"{path.name}: broken or truncated {img.format} ({exc})") from None
    return img


def output_names(files: list[Path]) -> list[str]:
    """One output PNG name per input: the stem + .png, made unique."""
    names, seen = [], set()
    for f in files:
        name = f.stem + ".png"
        if name in seen:
            name = f"{f.stem}_{f.suffix.lstrip('.').lower()}.png"
        k = 2
        while name in seen:
            name, k = f"{f.stem}_{k}.png", k + 1
        seen.add(name)
        names.append(name)
    return names


def run_numpy(jobs, args) -> None:
    """The NumPy/Pillow engine: decode, filter, write deterministic PNG bytes."""
    import cartoon_numpy as cn

    for src, dst, img in jobs:
        rgb = cn.flatten_to_rgb(img)
        out = cn.run_style(
            rgb,
            args.style,
            n=cn.gimpfu_n(src.stat().st_size),
            mask_radius=args.mask_radius,
            pct_black=args.pct_black,
        )
        dst.write_bytes(cn.encode_png(out))


def _scheme_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_gimp(jobs, args, fishes_out: Path | None = None) -> None:
    """The GIMP engine: one GIMP in batch mode runs cartoon.scm on every picture.

    ``fishes_out``: where to copy the conversion paths babl used (see BABL_FISHES)."""
    import math

    calls = []
    for src, dst, _img in jobs:
        if args.style == "gimpfu":
            n = math.ceil(src.stat().st_size / 1_000_000 + 1)
            calls.append(
                f"(iexec-gimpfu {_scheme_string(str(src))} {_scheme_string(str(dst))} {n})"
            )
        else:
            calls.append(
                f"(iexec-cartoon {_scheme_string(str(src))} {_scheme_string(str(dst))} "
                f"{args.mask_radius!r} {args.pct_black!r})"
            )
    script = f"(begin (load {_scheme_string(str(HERE / 'cartoon.scm'))}) " + " ".join(calls) + ")"
    with tempfile.TemporaryDirectory(prefix="gimp-") as gimpdir:
        # A fresh profile with metadata export off, and babl restricted to its exact
        # conversions: by default babl times its conversion paths at run time and picks the
        # fastest within a tolerance, so pixels changed from run to run (measured: 4 variants in
        # 8 runs, up to 22 levels apart); BABL_TOLERANCE=0 gave 8 identical runs of 8, and the
        # pinned paths (BABL_FISHES) leave no choice to timing.
        Path(gimpdir, "gimprc").write_text(GIMPRC + _lean_gimprc(Path(gimpdir)))
        fishes = Path(gimpdir, "cache", "babl", "babl-fishes")
        fishes.parent.mkdir(parents=True)
        if BABL_FISHES.is_file():
            shutil.copyfile(BABL_FISHES, fishes)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BABL_")}
        env.update(
            GIMP2_DIRECTORY=gimpdir,
            HOME=gimpdir,
            XDG_CACHE_HOME=str(fishes.parents[1]),
            BABL_TOLERANCE="0",
        )
        proc = subprocess.run(
            ["gimp", "-i", "-n", "-d", "-f", "-b", script, "-b", "(gimp-quit 0)"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        # babl writes the paths it used back at exit: any it had to time is worth a warning
        used = fishes.read_text() if fishes.is_file() else ""
        if fishes_out is not None:
            fishes_out.write_text(used)
    timed = timed_fishes(BABL_FISHES.read_text() if BABL_FISHES.is_file() else "", used)
    if timed:
        print(
            f"gimp-cartoon: warning: babl chose {len(timed)} conversion(s) by timing, not from "
            f"{BABL_FISHES.name} (other inputs or another babl): the pixels may vary from run to "
            f"run; first: {timed[0]}",
            file=sys.stderr,
            flush=True,
        )
    log = proc.stdout + proc.stderr
    failed = "execution error" in log or proc.returncode != 0
    missing = [dst.name for _s, dst, _i in jobs if not dst.is_file()]
    if failed or missing:
        tail = "\n".join(line for line in log.splitlines() if "rror" in line)[-800:]
        raise AppError(f"GIMP failed (exit {proc.returncode}; missing outputs: {missing}): {tail}")


def _lean_gimprc(gimpdir: Path) -> str:
    """gimprc lines for a quick start (see GIMP_PLUG_INS): the plug-in path, and a Script-Fu
    path holding copies of GIMP's own .init files (when they are found next to the binary)."""
    plug_ins = ":".join("${gimp_plug_in_dir}/plug-ins/" + name for name in GIMP_PLUG_INS)
    lines = f'(plug-in-path "{plug_ins}")\n'
    stock = Path(shutil.which("gimp")).resolve().parents[1] / "share" / "gimp" / "2.0" / "scripts"
    inits = sorted(stock.glob("*.init")) if stock.is_dir() else []
    if inits:
        (gimpdir / "scripts").mkdir()
        for f in inits:
            shutil.copyfile(f, gimpdir / "scripts" / f.name)
        lines += f"(script-fu-path {_scheme_string(str(gimpdir / 'scripts'))})\n"
    return lines


def parse_fishes(text: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """A babl-fishes file as {(source format, destination format): its conversions}; the
    header line is the key ("#", its text); a reference fish is ("[reference]",)."""
    out = {}
    for block in text.split("----\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith("#"):
            out[("#", lines.pop(0))] = ()
        if len(lines) >= 3:
            steps = tuple(line.strip() for line in lines[3:])
            out[(lines[0], lines[1])] = ("[reference]",) if "[reference]" in lines[2] else steps
    return out


def timed_fishes(pinned: str, used: str) -> list[str]:
    """The conversions of ``used`` (babl-fishes text) that are not as ``pinned`` says. A
    palette's format is named after its address, so its conversions cannot be pinned: left out
    (a palette lookup rounds nothing: the indexed PNG tests match the NumPy port exactly)."""
    pin = parse_fishes(pinned)
    return [
        f"{key[0]} -> {key[1]}" if key[0] != "#" else f"babl {key[1]!r}"
        for key, steps in parse_fishes(used).items()
        if pin.get(key) != steps and "-0x" not in key[0] + key[1]
    ]


def write_computed(out_dir: Path, data: dict) -> None:
    """Write $IEXEC_OUT/computed.json (atomically)."""
    tmp = out_dir / ".computed.json.tmp"
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(out_dir / "computed.json")


def main(argv: list[str] | None = None) -> int:
    """Run the app; return the exit code."""
    in_dir = Path(os.environ.get("IEXEC_IN", "/iexec_in"))
    out_dir = Path(os.environ.get("IEXEC_OUT", "/iexec_out"))
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        files = list_inputs(in_dir)
        images = out_dir / "images"
        images.mkdir(exist_ok=True)
        jobs = [(f, images / name, load_checked(f)) for f, name in zip(files, output_names(files))]
        print(
            f"gimp-cartoon: {len(jobs)} picture(s), style {args.style}, engine {args.engine}",
            flush=True,
        )
        (run_gimp if args.engine == "gimp" else run_numpy)(jobs, args)
        for _src, dst, _img in jobs:
            load_checked(dst)  # the output must itself be a whole PNG
            print(f"  wrote images/{dst.name}", flush=True)
        # the app names its output as iExec apps do, under /iexec_out, wherever its folder is
        write_computed(out_dir, {"deterministic-output-path": "/iexec_out/images"})
        return 0
    except AppError as exc:
        message = str(exc)
    except Exception as exc:  # noqa: BLE001  (any crash still ends in error-message)
        message = f"unexpected {type(exc).__name__}: {exc}"
    print(f"gimp-cartoon: error: {message}", file=sys.stderr, flush=True)
    write_computed(out_dir, {"error-message": message})
    return 1


if __name__ == "__main__":
    sys.exit(main())
