#!/usr/bin/env bash
# Install the Debian packages the tests need, when they are missing and we can (root + apt).
# Arguments: command=package pairs; a package is installed only when its command is absent.
# Never fails the build: a test that needs a missing command says so itself.
set -u
missing=()
for pair in "$@"; do
  cmd="${pair%%=*}"; pkg="${pair#*=}"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-apt: missing Debian packages: ${missing[*]} (not root or no apt-get; the tests that need them will say so)" >&2
  exit 0
fi
echo "ensure-apt: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || echo "ensure-apt: could not install ${missing[*]}; the tests that need them will say so" >&2
exit 0
