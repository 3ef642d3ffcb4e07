#!/usr/bin/env bash
# Runs a command with a private redis-server: a free port, a temp dir, no persistence.
# REDIS_URL points at it; the server is stopped (by its own pid) however the command ends,
# and the command's exit status is passed on.   Usage: scripts/test-redis.sh CMD [ARGS...]
set -uo pipefail
dir="$(mktemp -d "${TMPDIR:-/tmp}/hoopoe-test-redis.XXXXXX")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
  --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
pid="$(cat "$dir/redis.pid" 2>/dev/null)"
stop() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM
echo "[hoopoe] private redis-server $port (pid $pid) in $dir" >&2
REDIS_URL="redis://127.0.0.1:$port/0" "$@"
