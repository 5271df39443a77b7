#!/usr/bin/env bash
# Build the gimp-cartoon app image offline, on the private engine of scripts/docker-engine.sh.
#
#   scripts/docker-build-app.sh [PYTHON]
#
# No registry is reachable here, so the base image is made with debootstrap (Debian bookworm,
# minbase, with gimp, python3, python3-numpy and python3-pil already in, since containers have no
# network) and `docker import`ed once as iexec-kit/bookworm-gimp:1; it stays in the engine's
# data root (.sandbox/docker/, gitignored) and later builds reuse it. The app image vendors the
# NumPy and Pillow of PYTHON (default: .venv/bin/python), so --engine numpy gives the same bytes in
# the container as in the process runner. Prints the image id (the checksum) on its last line.
# Exit codes: 0 ok, 3 cannot build here (reason on stderr).
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${1:-$ROOT/.venv/bin/python}"
APP="$ROOT/apps/gimp-cartoon"
DIR="${IEXEC_KIT_DOCKER_DIR:-$ROOT/.sandbox/docker}"
BASE="iexec-kit/bookworm-gimp:1"
IMAGE="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["image"])' "$APP/iexec.json")"
MIRROR="${DEBOOTSTRAP_MIRROR:-http://deb.debian.org/debian}"

say() { echo "docker-build-app: $*" >&2; }

mkdir -p "$DIR"
# one build at a time on this data root (two test sessions may build at once)
exec 9>"$DIR/build.lock"
flock 9

HOST_LINE="$(bash "$ROOT/scripts/docker-engine.sh" start | tail -n 1)" || exit 3
export DOCKER_HOST="${HOST_LINE#DOCKER_HOST=}"

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing debootstrap"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 \
        || { say "apt-get install debootstrap failed"; exit 3; }
    else
      say "debootstrap is missing and this is not root: cannot make the base image"; exit 3
    fi
  fi
  ROOTFS="$DIR/rootfs"
  # debootstrap leaves /proc (and more) mounted inside the root when it fails: unmount first
  unmount_rootfs() {
    local m
    for m in $(awk -v r="$ROOTFS/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
      umount -l "$m" 2>/dev/null || true
    done
  }
  trap unmount_rootfs EXIT
  t0=$(date +%s)
  ok=0
  for attempt in 1 2; do
    unmount_rootfs
    rm -rf "$ROOTFS"
    say "debootstrap bookworm (minbase + gimp, python3, numpy, pillow) into $ROOTFS (attempt $attempt)"
    if debootstrap --variant=minbase --include=gimp,python3,python3-numpy,python3-pil \
          bookworm "$ROOTFS" "$MIRROR" >"$DIR/debootstrap.log" 2>&1; then
      ok=1; break
    fi
    cp "$ROOTFS/debootstrap/debootstrap.log" "$DIR/debootstrap-inner.log" 2>/dev/null || true
    say "debootstrap failed; the end of $DIR/debootstrap.log (inner log: $DIR/debootstrap-inner.log):"
    tail -n 5 "$DIR/debootstrap.log" >&2
  done
  unmount_rootfs
  [ "$ok" = 1 ] || exit 3
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  say "docker import as $BASE"
  tar -C "$ROOTFS" -c . | docker import - "$BASE" >/dev/null
  unmount_rootfs
  rm -rf "$ROOTFS"
  say "base image made in $(( $(date +%s) - t0 ))s"
fi

CTX="$(mktemp -d)"
trap 'rm -rf "$CTX"' EXIT
cp "$APP"/Dockerfile "$APP"/.dockerignore "$APP"/entrypoint.py "$APP"/cartoon_numpy.py \
   "$APP"/cartoon.scm "$APP"/iexec.json "$CTX"/
mkdir -p "$CTX/vendor"
"$PY" - "$CTX/vendor" <<'PYEOF'
import pathlib, shutil, sys
import numpy, PIL
dest = pathlib.Path(sys.argv[1])
site = pathlib.Path(numpy.__file__).parent.parent
for name in ("numpy", "numpy.libs", "PIL", "pillow.libs"):
    src = site / name
    if src.is_dir():
        shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "tests"))
print(f"vendored numpy {numpy.__version__} and Pillow {PIL.__version__}", file=sys.stderr)
PYEOF
say "docker build $IMAGE"
t0=$(date +%s)
DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$BASE" -t "$IMAGE" "$CTX" >/dev/null
say "built in $(( $(date +%s) - t0 ))s"
docker image inspect --format '{{.Id}}' "$IMAGE"
