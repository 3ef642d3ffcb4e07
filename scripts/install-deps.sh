#!/usr/bin/env bash
# Installs what Hoopoe needs on Debian 12, and only what is missing (idempotent; root or sudo).
#   libhiredis-dev  the C client the Redis module wraps (0.14.1 on Debian 12)
#   redis-server    the local Redis for `make run` and the private one for `make test`
#   redis-tools     redis-cli and redis-benchmark (`make bench`)
#   libssl-dev openssl  TLS to Redis (rediss://, decision 0024) and the test certificates made at test time
#   redis-sentinel  three real sentinels for the Sentinel failover tests (Tests/TestSupport/SentinelGroup.swift)
#   python3 redis, jsonschema   the Python example enqueuer the tests run, and schema checks
#   php-cli php-redis golang-go golang-github-gomodule-redigo-dev   the PHP and Go clients' tests (jobs/clients/)
#   python3 python3-pip tzdata   the Python client and examples (pip installs their pins; a fresh Debian has no pip)
#   python3-venv, .build/sdk-venv   the official provider SDKs, pinned (Tests/blackbox/requirements.txt), for the
#                                   black-box tests against the fakes; a venv so their pins touch nothing else
#   systemd         systemd-analyze, which checks the shipped unit files (Tests/HoopoeCLITests/DeployFilesTests.swift); not
#                   started, a container's init is left as it is
#   libfaketime     a worker whose clock runs ahead of Redis's (Tests/HoopoeCoreTests/Worker/ClockLeadTests.swift)
#   chromium chromium-driver, .build/browser-venv   a real headless browser and selenium (Tests/browser/requirements.txt)
#                                   driving `hoopoe dashboard` in `make test` (scripts/test-browser.sh)
set -euo pipefail
# Swift first: without a Swift that can build the package, the installs below (minutes on a fresh machine) are wasted.
# Package.swift needs tools 6.1 and turns on NonisolatedNonsendingByDefault, an upcoming feature from Swift 6.2.
# (SWIFT: the compiler driver the Makefile uses, `make SWIFT=/path/to/swift …`.)
swift_cmd="${SWIFT:-swift}"
if ! command -v "$swift_cmd" >/dev/null; then
  echo "[hoopoe] $swift_cmd: not found. Install Swift 6.2 or later (https://swift.org/install) and put it on PATH, or" \
    "point SWIFT at one" >&2
  exit 1
fi
swift_version="$("$swift_cmd" --version 2>&1 | sed -nE 's/.*Swift version ([0-9]+)\.([0-9]+).*/\1 \2/p' | head -n 1 || true)"
if [ -z "$swift_version" ]; then
  echo "[hoopoe] warning: could not read the version of $swift_cmd (\`$swift_cmd --version\`); Hoopoe needs Swift 6.2 or later" >&2
else
  read -r swift_major swift_minor <<<"$swift_version"
  if [ "$swift_major" -lt 6 ] || { [ "$swift_major" -eq 6 ] && [ "$swift_minor" -lt 2 ]; }; then
    echo "[hoopoe] $swift_cmd is Swift $swift_major.$swift_minor; Hoopoe needs Swift 6.2 or later (Package.swift uses" \
      "NonisolatedNonsendingByDefault): install it from https://swift.org/install, or point SWIFT at one" >&2
    exit 1
  fi
fi
"$(dirname "$0")/apt-install-missing.sh" libhiredis-dev libssl-dev openssl redis-server redis-tools redis-sentinel php-cli \
  php-redis golang-go golang-github-gomodule-redigo-dev python3 python3-pip python3-venv tzdata libfaketime chromium chromium-driver \
  systemd
# The service install of redis-server starts a system Redis on 6379; Hoopoe never relies on it.
# Pinned to the ranges the tests run with: redis 8.1 (whose 5 s default socket timeout the examples must survive),
# jsonschema 4.26, prometheus_client 0.26. A version outside its range counts as missing and is replaced.
PY_DEPS=("redis>=8.1,<9" "jsonschema>=4.26,<5" "prometheus_client>=0.26,<1")
py_deps_ok() {
  python3 - "${PY_DEPS[@]}" <<'PY' 2>/dev/null
import importlib.metadata, re, sys
def version(text):
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])
for spec in sys.argv[1:]:
    name, low, high = re.fullmatch(r"([\w-]+)>=([\d.]+),<([\d.]+)", spec).groups()
    if not version(low) <= version(importlib.metadata.version(name)) < version(high):
        sys.exit(1)
PY
}
if ! py_deps_ok; then
  echo "[hoopoe] installing the Python redis and jsonschema packages (example enqueuer, clients, protocol and metrics tests)" >&2
  python3 -m pip install -q --disable-pip-version-check "${PY_DEPS[@]}" 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages "${PY_DEPS[@]}"
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
sdk_venv="$root/.build/sdk-venv"
sdk_requirements="$root/Tests/blackbox/requirements.txt"
# The venv keeps a copy of the requirements it was made from: a pin changed since (a new SDK release, a fixed
# dependency) makes a fresh venv, as the selenium pin does for the browser's below; importing the modules alone kept
# the old versions for good.
if ! "$sdk_venv/bin/python" -c 'import kavenegar, ippanel, sib_api_v3_sdk, redis' 2>/dev/null \
  || ! cmp -s "$sdk_requirements" "$sdk_venv/requirements.txt"; then
  echo "[hoopoe] installing the official provider SDKs into .build/sdk-venv (Tests/blackbox/requirements.txt)" >&2
  python3 -m venv --clear "$sdk_venv"
  "$sdk_venv/bin/pip" install -q --disable-pip-version-check -r "$sdk_requirements"
  cp "$sdk_requirements" "$sdk_venv/requirements.txt"
fi
browser_venv="$root/.build/browser-venv"
selenium_pin="$(sed -n 's/^selenium==//p' "$root/Tests/browser/requirements.txt")"
if ! "$browser_venv/bin/python" -c "import selenium, redis, sys; sys.exit(selenium.__version__ != '$selenium_pin')" 2>/dev/null; then
  echo "[hoopoe] installing selenium into .build/browser-venv (Tests/browser/requirements.txt)" >&2
  python3 -m venv "$browser_venv"
  "$browser_venv/bin/pip" install -q --disable-pip-version-check -r "$root/Tests/browser/requirements.txt"
fi
