#!/usr/bin/env bash
# Runs the black-box Python suites (Tests/blackbox/*_test.py) with the pinned SDK venv that scripts/install-deps.sh
# makes, against the built debug `hoopoe` (HOOPOE_BIN to use another). REDIS_URL: from scripts/test-redis.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export HOOPOE_BIN="${HOOPOE_BIN:-$root/.build/debug/hoopoe}"
cd "$root/Tests/blackbox"
exec "$root/.build/sdk-venv/bin/python" -m unittest discover -s . -p '*_test.py' "$@"
