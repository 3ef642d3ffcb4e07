#!/usr/bin/env bash
# Runs a command with a private redis-server: a free port, a temp dir, no persistence.
# REDIS_URL points at it; the server is stopped (by its own pid) however the command ends,
# and the command's exit status is passed on.   Usage: scripts/test-redis.sh CMD [ARGS...]
set -uo pipefail
dir="$(mktemp -d "${TMPDIR:-/tmp}/hoopoe-test-redis.XXXXXX")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
pid=""
stop() {
  [ -z "$pid" ] && pid="$(cat "$dir/redis.pid" 2>/dev/null)"
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM
if ! started="$(redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
  --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" 2>&1)"; then
  echo "[hoopoe] could not start the private redis-server: $started" >&2
  exit 1
fi
for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
pid="$(cat "$dir/redis.pid" 2>/dev/null)"
# A server that never answered (a port taken meanwhile, a full disk, …): the command is not run against that port.
if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
  echo "[hoopoe] the private redis-server on port $port did not answer within 5 s; not running: $*" >&2
  echo "[hoopoe] the end of its log ($dir/redis.log):" >&2
  tail -n 20 "$dir/redis.log" >&2 2>/dev/null
  exit 1
fi
echo "[hoopoe] private redis-server $port (pid $pid) in $dir" >&2
REDIS_URL="redis://127.0.0.1:$port/0" "$@"
