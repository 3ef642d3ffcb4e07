#!/usr/bin/env bash
# Installs the Debian packages named that are not installed yet, and nothing else (root, or sudo): the one place the
# project calls apt-get (scripts/install-deps.sh for `make run` and `make test`, scripts/bench.sh for what only
# `make bench` needs). Tries without `apt-get update` first, so a machine whose package lists are fresh makes no
# network round trip for them. Exits non-zero when apt-get fails.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
((${#missing[@]})) || exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
echo "[hoopoe] installing: ${missing[*]}" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null 2>&1 \
  || { $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq && \
       $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null; }
