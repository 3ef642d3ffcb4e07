#!/usr/bin/env bash
# The PHP, Go and Python clients' own tests (jobs/clients/*/) against a real worker: the debug `hoopoe` binary,
# the Redis of REDIS_URL (run under scripts/test-redis.sh), and `hoopoe dev fake-providers` for the SMS and Brevo
# calls, wired as `make run` does (scripts/run.sh). The domain clock (HOOPOE_CLOCK_KEY) is noon in Tehran today, so
# SMS are not deferred by quiet hours. Every process this script starts is stopped by its pid.
#   HOOPOE_BIN   the hoopoe binary (default .build/debug/hoopoe); the worker it starts loads the function library
#                the clients FCALL (hoopoe_enqueue)
#   CLIENTS      which clients to test (default "python php go")
# Tests that delete the function library do so on a Redis of their own, HOOPOE_TEST_LONE_REDIS (a unix socket this
# script starts with no worker on it): on REDIS_URL's the worker's keeper loads the library again every 15 s, and one
# reload between their FUNCTION DELETE and their enqueue made that enqueue succeed ("send the batch again" then wrote
# its jobs twice).
set -uo pipefail
cd "$(dirname "$0")/.."
: "${REDIS_URL:?run under scripts/test-redis.sh}"
HOOPOE="$(realpath "${HOOPOE_BIN:-.build/debug/hoopoe}")"
export HOOPOE_BIN="$HOOPOE"  # the clients' tests run `hoopoe functions load` after deleting the function library
CLIENTS="${CLIENTS:-python php go}"
logs="$(mktemp -d "${TMPDIR:-/tmp}/hoopoe-clients.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export HOOPOE_NAMESPACE="clients-$$"
export HOOPOE_CLOCK_KEY="$HOOPOE_NAMESPACE:test:clock"
export HOOPOE_TEST_WORKER=1
"$HOOPOE" dev fake-providers --port 0 >"$logs/fakes.out" 2>"$logs/fakes.log" &
pids+=($!)
for _ in $(seq 200); do [ "$(grep -c '_API_KEY=' "$logs/fakes.out" 2>/dev/null)" = 3 ] && break; sleep 0.05; done
# Failed here, not far away as "library not loaded" or "SMS not sent".
[ "$(grep -c '_API_KEY=' "$logs/fakes.out" 2>/dev/null)" = 3 ] || { echo "[clients] the fake providers did not print their keys in 10 s:"; cat "$logs/fakes.log"; exit 1; }
while IFS= read -r line; do case "$line" in *=*) export "${line?}" ;; esac; done <"$logs/fakes.out"
export IPPANEL_FROM_NUMBER=+983000505 RECEIPT_BASE_URL=https://kamva.ir/email/receipt LOG_LEVEL=warning
export SMS_TEMPLATES_FILE="$PWD/jobs/sms_templates.yaml"
noon="$(python3 -c 'import datetime, zoneinfo; t = zoneinfo.ZoneInfo("Asia/Tehran"); d = datetime.datetime.now(t); print(int(d.replace(hour=12, minute=0, second=0, microsecond=0).timestamp()))')"
redis-cli -u "$REDIS_URL" SET "$HOOPOE_CLOCK_KEY" "$noon" >/dev/null
"$HOOPOE" worker --queues critical,default,low --concurrency 10 >"$logs/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
  # Up: its heartbeat is written and it has loaded the function library (it does both at start).
  [ "$(redis-cli -u "$REDIS_URL" ZCARD "$HOOPOE_NAMESPACE:processes")" -ge 1 ] 2>/dev/null &&
    redis-cli -u "$REDIS_URL" FCALL_RO hoopoe_library_version 0 2>/dev/null | grep -Eq '^[0-9a-f]{40}$' && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "[clients] the worker exited:"; cat "$logs/worker.log"; exit 1; }
  sleep 0.05
done
[ "$(redis-cli -u "$REDIS_URL" ZCARD "$HOOPOE_NAMESPACE:processes")" -ge 1 ] 2>/dev/null &&
  redis-cli -u "$REDIS_URL" FCALL_RO hoopoe_library_version 0 2>/dev/null | grep -Eq '^[0-9a-f]{40}$' ||
  { echo "[clients] the worker did not beat and load the function library in 15 s:"; cat "$logs/worker.log"; exit 1; }
echo "[clients] worker pid ${pids[-1]} on namespace $HOOPOE_NAMESPACE; logs in $logs" >&2
# The lone Redis: no TCP port (--port 0), so nothing else finds it; its pid is this script's to stop.
export HOOPOE_TEST_LONE_REDIS="$logs/lone-redis.sock"
redis-server --port 0 --unixsocket "$HOOPOE_TEST_LONE_REDIS" --unixsocketperm 700 --dir "$logs" --save '' --appendonly no \
  --logfile "$logs/lone-redis.log" &
pids+=($!)
for _ in $(seq 100); do redis-cli -s "$HOOPOE_TEST_LONE_REDIS" PING 2>/dev/null | grep -q PONG && break; sleep 0.05; done
redis-cli -s "$HOOPOE_TEST_LONE_REDIS" PING 2>/dev/null | grep -q PONG ||
  { echo "[clients] the lone redis-server did not answer on $HOOPOE_TEST_LONE_REDIS in 5 s:"; tail -20 "$logs/lone-redis.log"; exit 1; }

failed=()
for client in $CLIENTS; do
  started=$(date +%s)
  case "$client" in
    python) python3 -m unittest discover -s jobs/clients/python/tests ;;
    php) php jobs/clients/php/tests/run.php ;;
    go) (cd jobs/clients/go && GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= go test -count=1 ./...) ;;
    *) echo "[clients] unknown client $client"; false ;;
  esac
  status=$?
  echo "[clients] $client: $([ $status = 0 ] && echo ok || echo FAILED) in $(( $(date +%s) - started )) s" >&2
  [ $status = 0 ] || failed+=("$client")
done
if ((${#failed[@]})); then
  echo "[clients] failed: ${failed[*]}; worker log:" >&2
  tail -50 "$logs/worker.log" >&2
  exit 1
fi
rm -rf "$logs"
