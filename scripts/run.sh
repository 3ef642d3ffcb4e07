#!/usr/bin/env bash
# `make run`: a local Redis (unless REDIS_URL is set), then Hoopoe against it. Ctrl-C stops everything.
set -uo pipefail
cd "$(dirname "$0")/.."
HOOPOE=.build/release/hoopoe
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if [ -n "${REDIS_PID:-}" ]; then kill "$REDIS_PID" 2>/dev/null; echo "[hoopoe] local Redis stopped (data kept in .redis-data/)"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${REDIS_URL:-}" ]; then
  mkdir -p .redis-data
  port="${LOCAL_REDIS_PORT:-6379}"
  if redis-cli -p "$port" ping >/dev/null 2>&1 && [ ! -f .redis-data/redis.pid ]; then
    # 6379 is taken (a system Redis): use a free port rather than somebody else's data.
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  fi
  if [ -f .redis-data/redis.pid ] && kill -0 "$(cat .redis-data/redis.pid)" 2>/dev/null; then
    port="$(cat .redis-data/port)"
    echo "[hoopoe] reusing the local Redis already running on port $port"
  else
    redis-server --port "$port" --bind 127.0.0.1 --dir "$PWD/.redis-data" --appendonly yes --appendfsync everysec \
      --maxmemory-policy noeviction --daemonize yes --pidfile "$PWD/.redis-data/redis.pid" \
      --logfile "$PWD/.redis-data/redis.log" >/dev/null || { echo "[hoopoe] could not start redis-server" >&2; exit 1; }
    echo "$port" > .redis-data/port
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
    REDIS_PID="$(cat .redis-data/redis.pid)"
    echo "[hoopoe] local Redis on 127.0.0.1:$port (AOF on, data in .redis-data/, log .redis-data/redis.log)"
  fi
  export REDIS_URL="redis://127.0.0.1:$port/0"
fi
echo "[hoopoe] REDIS_URL=$REDIS_URL   (in another shell: export REDIS_URL=$REDIS_URL)"

"$HOOPOE" ping || exit 1
echo "[hoopoe] connection proven. Press Ctrl-C to stop the local Redis."
while true; do sleep 3600; done
