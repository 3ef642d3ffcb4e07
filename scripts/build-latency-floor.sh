#!/usr/bin/env bash
# Builds bench/floor/latency_floor.c (the machine's enqueue→start floor for `make bench`; decision 0060) into OUT.
# The C compiler: $CC, else cc, else the clang beside the Swift toolchain's `swift` (always there where Hoopoe builds).
#   Usage: scripts/build-latency-floor.sh OUT
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/build-latency-floor.sh OUT}"
compiler="${CC:-}"
if [ -z "$compiler" ]; then
  if command -v cc >/dev/null; then
    compiler=cc
  elif command -v swift >/dev/null && [ -x "$(dirname "$(readlink -f "$(command -v swift)")")/clang" ]; then
    compiler="$(dirname "$(readlink -f "$(command -v swift)")")/clang"
  else
    echo "build-latency-floor: no C compiler (set CC, or install one: apt-get install -y gcc)" >&2
    exit 1
  fi
fi
"$compiler" -O2 -Wall -Wextra -o "$out" "$root/bench/floor/latency_floor.c" -lhiredis
