#!/usr/bin/env bash
# Drives `hoopoe dashboard` in a real headless browser: every Tests/browser/test_*.py module (test_dashboard.py, and
# whatever other page areas add), with Debian's chromium through chromium-driver and selenium (pinned in
# .build/browser-venv by scripts/install-deps.sh), against the built debug `hoopoe` (HOOPOE_BIN to use another) and a
# real worker. REDIS_URL: from scripts/test-redis.sh. Arguments, if any, name what to run instead of every module
# (e.g. test_dashboard.DashboardInABrowser.test_read_only_hides_and_refuses_actions).
# Screenshots of the overview and dead pages land in .build/screenshots/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export HOOPOE_BIN="${HOOPOE_BIN:-$root/.build/debug/hoopoe}"
# Selenium must not look for (or download) a driver: chromium-driver is the one to use.
export SE_AVOID_STATS=true SE_OFFLINE=true
cd "$root/Tests/browser"
if [ "$#" -eq 0 ]; then
    modules=()
    for file in test_*.py; do modules+=("${file%.py}"); done
    set -- "${modules[@]}"
fi
exec "$root/.build/browser-venv/bin/python" -m unittest -v "$@"
