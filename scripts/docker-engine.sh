#!/usr/bin/env bash
# A private Docker engine for iexec-kit: its own socket, data root and exec root, no iptables,
# no bridge (containers get no network), vfs storage. It never touches a system Docker.
#
#   scripts/docker-engine.sh start    start it (installs docker.io with apt when root and missing);
#                                     prints DOCKER_HOST=unix://... on its last line
#   scripts/docker-engine.sh stop     stop it (only the engine this script started)
#   scripts/docker-engine.sh status   exit 0 when it answers
#   scripts/docker-engine.sh host     print the DOCKER_HOST value
#
# State lives in $IEXEC_KIT_DOCKER_DIR (default: <repo>/.sandbox/docker, gitignored), so images
# built once (the app image) survive a stop and are reused by the next start.
# Storage driver: $IEXEC_KIT_DOCKER_STORAGE, default overlay2 when the kernel has overlay (a
# container starts in ~1 s), else vfs (every container is a full copy of its image: ~25 s here);
# each driver keeps its own data root (data-overlay2/, data-vfs/).
# Exit codes: 0 ok, 3 cannot start here (reason on stderr).
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${IEXEC_KIT_DOCKER_DIR:-$ROOT/.sandbox/docker}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
# the exec root holds containerd's sockets: keep its path short (unix sockets max 108 bytes)
EXEC_ROOT="/tmp/iexec-kit-dx-$(printf '%s' "$DIR" | sha256sum | cut -c1-10)"
HOST="unix://$SOCK"
START_TIMEOUT="${IEXEC_KIT_DOCKER_START_TIMEOUT:-90}"
if [ -n "${IEXEC_KIT_DOCKER_STORAGE:-}" ]; then
  STORAGE="$IEXEC_KIT_DOCKER_STORAGE"
elif grep -qw overlay /proc/filesystems 2>/dev/null; then
  STORAGE=overlay2
else
  STORAGE=vfs
fi
DATA_ROOT="$DIR/data-$STORAGE"

say() { echo "docker-engine: $*" >&2; }

answers() { docker -H "$HOST" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ensure_installed() {
  command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "dockerd is not installed and this is not root with apt-get: cannot start an engine"
    say "what to do: install Docker (Debian: apt-get install docker.io), or use the process runner"
    return 3
  fi
  say "installing docker.io with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  if ! apt-get install -y -qq --no-install-recommends docker.io >/dev/null 2>&1; then
    say "apt-get install docker.io failed"; return 3
  fi
}

launch() {
  DATA_ROOT="$DIR/data-$STORAGE"
  mkdir -p "$DATA_ROOT" "$EXEC_ROOT"
  rm -f "$SOCK"
  say "starting dockerd ($STORAGE storage, socket $SOCK, log $LOG)"
  nohup dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver="$STORAGE" \
      -H "$HOST" --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" --pidfile "$PIDFILE" \
      >"$LOG" 2>&1 </dev/null &
  local pid=$! t=0
  while ! answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "dockerd exited during start-up; the end of its log:"; tail -n 15 "$LOG" >&2; return 3
    fi
    if [ "$t" -ge "$START_TIMEOUT" ]; then
      say "dockerd did not answer within ${START_TIMEOUT}s; stopping it"; kill "$pid" 2>/dev/null
      tail -n 15 "$LOG" >&2; return 3
    fi
    sleep 1; t=$((t + 1))
  done
  say "up in ${t}s"
}

start() {
  if answers; then say "already running"; echo "DOCKER_HOST=$HOST"; return 0; fi
  ensure_installed || return 3
  if [ "$(id -u)" != 0 ]; then
    say "dockerd needs root here (no rootless setup): cannot start an engine"; return 3
  fi
  if ! launch; then
    if [ "$STORAGE" = overlay2 ] && [ -z "${IEXEC_KIT_DOCKER_STORAGE:-}" ]; then
      say "overlay2 did not work here; trying vfs (slower: every container copies its image)"
      STORAGE=vfs
      launch || return 3
    else
      return 3
    fi
  fi
  echo "DOCKER_HOST=$HOST"
}

stop() {
  [ -f "$PIDFILE" ] || { say "not running (no pid file)"; return 0; }
  local pid; pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && { say "dockerd $pid still alive after 30s; sending KILL"; kill -9 "$pid"; }
  fi
  rm -f "$PIDFILE"
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  host) echo "$HOST" ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
