#!/usr/bin/env bash
# Runs a build command (`make test` passes `swift build --build-tests`) and fails it when the compiler warned about
# the project's own code (Sources/, Tests/): the build is kept warning-free under Swift 6 strict concurrency, and a
# warning nobody reads stays. Dependencies' warnings (.build/checkouts) are left to their authors. The compiler warns
# about a file only when it compiles it, so a fresh clone (CI) checks every file and an incremental build the changed
# ones.
set -uo pipefail
log="$(mktemp "${TMPDIR:-/tmp}/hoopoe-build.XXXXXX")"
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
((status == 0)) || exit "$status"
warnings="$(grep -E "(^|/)(Sources|Tests)/[^:]+:[0-9]+:[0-9]+: warning: " "$log" | grep -v "/\.build/" | sort -u)"
if [ -n "$warnings" ]; then
  echo "[hoopoe] the build warned about the project's own code; fix these:" >&2
  echo "$warnings" >&2
  exit 1
fi
