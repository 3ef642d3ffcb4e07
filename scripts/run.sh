#!/usr/bin/env bash
# `make run`: a local Redis (unless REDIS_URL is set), then a worker (with Prometheus /metrics, its URL printed), the
# scheduler and the dashboard (on loopback, its URL printed) against it. Without provider
# keys in the environment (KAVENEGAR_API_KEY, IPPANEL_API_KEY, BREVO_API_KEY) it also starts the local fake providers
# (`hoopoe dev fake-providers`) and points the worker at them, so the domain jobs run and no SMS leaves the machine.
# Logs go to .hoopoe/logs/ (paths printed at start). Ctrl-C stops everything this script started: the worker gets
# one SIGTERM and drains (running jobs finish within its --shutdown-timeout), the scheduler stops beside it; once both
# are gone the fake providers and the dashboard stop (a finishing job may still call the fakes), the local Redis last;
# then the script exits 0. A second Ctrl-C stops the worker at once (its running jobs go back to their queue).
# One make run per data folder: a second one exits 1 naming the first (a lock, .hoopoe/run.lock), and so does one that
# finds a redis-server left running on .redis-data by an earlier run that was killed.
#   HOOPOE_BIN             the hoopoe binary (default .build/release/hoopoe)
#   HOOPOE_DATA_DIR        where the local Redis keeps its data and the logs go (default: the project folder; a
#                          relative one is taken from the folder the script is started in)
#   LOCAL_REDIS_PORT       the local Redis's port (6379; a free one when anything listens there)
#   HOOPOE_QUEUES          the worker's queues (critical:6,default:3,low:1)
#   HOOPOE_METRICS_PORT    the worker's /metrics port (9464; a free one when taken)
#   HOOPOE_DASHBOARD_PORT  the dashboard's port (9460; a free one when taken)
set -uo pipefail
# Under a terminal, a Ctrl-C is a SIGINT to the terminal's whole foreground process group: `make` too, which then
# exits "Interrupt" (status 2) whatever this script does. So this script first moves into a process group of its own
# and makes it the terminal's foreground group (python3: bash cannot call setpgid/tcsetpgrp on itself); a Ctrl-C then
# reaches this script alone, `make` waits for it and exits with its status. The terminal goes back to the group that
# had it (HOOPOE_RUN_TERMINAL_GROUP) when the script ends. (A Ctrl-C in the fraction of a second before that hand-over
# still reaches `make`, which then exits "Interrupt": nothing run by make can prevent that.)
# Only from the foreground: `make run &` in an interactive shell also has the terminal as stdin, and taking the terminal
# from there took it from the shell, whose next read of it failed: the shell exited. In the background the script
# leaves the terminal and its process group alone (HOOPOE_RUN_TERMINAL_GROUP set, empty: checked, nothing to give back).
if [ -t 0 ] && [ -z "${HOOPOE_RUN_TERMINAL_GROUP+checked}" ] && command -v python3 >/dev/null; then
  exec python3 -c '
import os, signal, sys
os.environ["HOOPOE_RUN_TERMINAL_GROUP"] = ""
try:
    foreground = os.tcgetpgrp(0) == os.getpgrp()
except OSError:
    foreground = False  # a terminal, but not the controlling one: none to take
if foreground:
    os.environ["HOOPOE_RUN_TERMINAL_GROUP"] = str(os.tcgetpgrp(0))
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # changing the foreground group from outside it
    os.setpgid(0, 0)
    os.tcsetpgrp(0, os.getpgrp())
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
os.execvp("bash", ["bash"] + sys.argv[1:])
' "$0" "$@"
fi
give_terminal_back() {
  [ -t 0 ] && [ -n "${HOOPOE_RUN_TERMINAL_GROUP:-}" ] || return 0
  set +m
  python3 -c '
import os, signal
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
try:
    os.tcsetpgrp(0, int(os.environ["HOOPOE_RUN_TERMINAL_GROUP"]))
except OSError:
    pass  # that group is gone: nothing to give back to
' 2>/dev/null
}
# Each background process is started in a session of its own (setsid), stdin from /dev/null, output to files: it has no
# terminal at all, so a terminal's Ctrl-C reaches this script alone, which forwards exactly one SIGTERM (otherwise the
# worker got the terminal's SIGINT and at once the script's SIGTERM: a second signal, which means "stop now",
# interrupting the jobs a single Ctrl-C should let finish), and no child can be stopped by SIGTTIN/SIGTTOU.
# No job control (`set -m`): under it bash hands the terminal to each foreground command (redis-cli, sleep, grep, …),
# and a Ctrl-C typed meanwhile went to that command alone and was lost; the script carried on and never exited. Without
# it, foreground commands share this script's group, so a Ctrl-C at any moment of start-up reaches the script too.
set +m
started_in="$PWD"
cd "$(dirname "$0")/.."
HOOPOE="${HOOPOE_BIN:-.build/release/hoopoe}"
DATA="${HOOPOE_DATA_DIR:-$PWD}"
# Absolute, a relative one read from where the script was started: redis-server changes into its --dir before opening
# its --logfile, so a relative folder made it fail to start.
case "$DATA" in /*) ;; *) DATA="$started_in/$DATA" ;; esac
DATA="$(realpath -m -- "$DATA")"
REDIS_DIR="$DATA/.redis-data"
LOGS="$DATA/.hoopoe/logs"
mkdir -p "$LOGS"
# One make run per data folder: a second one started a second redis-server on the same AOF (on another port, 6379
# being taken by the first), two servers appending to the same files, and its worker and scheduler beside the first
# ones. The lock (fd 9, not passed to the processes started below, so it is free again once this script is gone, even
# killed) is held until the script exits, after the local Redis has stopped.
exec 9<>"$DATA/.hoopoe/run.lock" || { echo "[hoopoe] cannot open $DATA/.hoopoe/run.lock" >&2; give_terminal_back; exit 1; }
flock -n 9
locked=$?
# Any status but 1 (held by another run) is a lock this folder cannot have (no `flock`; a file system without locks,
# some NFS or 9p mounts): the run goes on without it, as it did before there was one, and says so.
if [ "$locked" -ne 0 ] && [ "$locked" -ne 1 ]; then
  echo "[hoopoe] warning: could not lock $DATA/.hoopoe/run.lock (flock status $locked): a second make run on this folder would not be stopped" >&2
  locked=0
fi
if [ "$locked" -ne 0 ]; then
  other="$(tr -cd '0-9' <"$DATA/.hoopoe/run.lock" 2>/dev/null)"
  echo "[hoopoe] another make run (pid ${other:-unknown}) is using $DATA: stop it first (Ctrl-C in its terminal, or" \
    "kill ${other:-<its pid>}), or start this one with HOOPOE_DATA_DIR set to another folder" >&2
  give_terminal_back
  exit 1
fi
echo "$$" >"$DATA/.hoopoe/run.lock"
# A redis-server still running on this folder, with no make run holding the lock: left by a run that was killed
# (SIGKILL, a closed session) before it could stop it. Starting another on the same AOF would corrupt it; stopping this
# one is the user's call (a worker of that run may still be using it).
if [ -z "${REDIS_URL:-}" ]; then
  left="$(cat "$REDIS_DIR/redis.pid" 2>/dev/null)"
  case "$left" in '' | *[!0-9]*) left="" ;; esac
  # (Alive, not a zombie; a redis-server; in this folder when its cwd can be read: not a pid reused by another one.)
  if [ -n "$left" ] && [ "$(ps -o comm= -p "$left" 2>/dev/null)" = redis-server ] \
    && [[ "$(ps -o stat= -p "$left" 2>/dev/null)" != Z* ]] \
    && { ! left_dir="$(readlink "/proc/$left/cwd" 2>/dev/null)" || [ "$left_dir" = "$(realpath -m -- "$REDIS_DIR")" ]; }; then
    echo "[hoopoe] a redis-server (pid $left: $(ps -o args= -p "$left" 2>/dev/null)) still runs on $REDIS_DIR, left by an" \
      "earlier make run that did not stop it; a second one would write to the same data. Stop it first: kill $left (it" \
      "saves its data and exits), and any hoopoe worker or scheduler left from that run (pgrep -a hoopoe)" >&2
    give_terminal_back
    exit 1
  fi
fi
pids=()      # every process started below, for `wait -n`
workers=()   # the worker and the scheduler: stopped first, and waited for (the worker lets its running jobs finish)
helpers=()   # the fake providers and the dashboard: stopped once those are gone (a job that is finishing may still call
             # the fakes: stopped with the worker, they refused it)
stopping=()  # what is being stopped now, for a second Ctrl-C
REDIS_PID=""
STARTED_REDIS=""
signal_all() {
  # SIGCONT too: a stopped process would not act on the SIGTERM, and the wait below would never end.
  for pid; do kill -TERM "$pid" 2>/dev/null; kill -CONT "$pid" 2>/dev/null; done
}
stop_and_wait() {
  stopping=("$@")
  signal_all "$@"
  for pid; do
    # `wait` returns early when a signal is trapped; keep waiting until the process is gone. A pid `wait` does not know
    # as this shell's child (127) is not waited for: `kill -0` is true for a zombie, and a background command killed by
    # the Ctrl-C before it ran left one that `wait` would not take, so the loop spun for good and `make run` never
    # exited (make test, session 46).
    while kill -0 "$pid" 2>/dev/null; do
      wait "$pid" 2>/dev/null
      [ $? -eq 127 ] && break
      kill -CONT "$pid" 2>/dev/null
    done
  done
  stopping=()
}
cleanup() {
  trap - EXIT
  # A second Ctrl-C while the worker drains is its second signal: stop at once. A hang-up (the terminal closed) no
  # longer cuts the stop short: it would leave the local Redis running, and the next make run refusing to start.
  trap 'echo "[hoopoe] stopping at once"; signal_all "${stopping[@]}"' INT TERM
  trap '' HUP
  stop_and_wait "${workers[@]}"
  stop_and_wait "${helpers[@]}"
  # A Ctrl-C between starting Redis and reading its pid file: read it now.
  [ -n "$STARTED_REDIS" ] && [ -z "$REDIS_PID" ] && REDIS_PID="$(cat "$REDIS_DIR/redis.pid" 2>/dev/null)"
  if [ -n "$REDIS_PID" ]; then
    kill "$REDIS_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
    echo "[hoopoe] local Redis stopped (data kept in $REDIS_DIR)"
  fi
  echo "[hoopoe] stopped"
  give_terminal_back
}
trap cleanup EXIT
trap 'echo "[hoopoe] stopping: running jobs may finish (Ctrl-C again to stop at once)"; exit 0' INT TERM HUP

if [ -z "${REDIS_URL:-}" ]; then
  mkdir -p "$REDIS_DIR"
  port="${LOCAL_REDIS_PORT:-6379}"
  # The port is taken (a system Redis, say, or any other program): use a free one rather than somebody else's data, or
  # a redis-server that cannot bind. A plain connect, as for the metrics and dashboard ports below: a `redis-cli ping`
  # saw only a Redis there, and a program that is not one made redis-server fail to bind (20 s, then exit 1).
  if python3 -c "import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)" 2>/dev/null; then
    taken="$port"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    echo "[hoopoe] port $taken is taken: the local Redis uses port $port"
  fi
  STARTED_REDIS=1
  redis-server --port "$port" --bind 127.0.0.1 --dir "$REDIS_DIR" --appendonly yes --appendfsync everysec \
    --maxmemory-policy noeviction --daemonize yes --pidfile "$REDIS_DIR/redis.pid" \
    --logfile "$REDIS_DIR/redis.log" >/dev/null 9>&- || { echo "[hoopoe] could not start redis-server" >&2; exit 1; }
  # Up to 20 s: loading a large AOF, or a loaded machine, can take a while; a Redis that never answers is an error
  # with its log's last lines (a port taken by another program, a bad data directory), not a confusing ping failure.
  for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
    echo "[hoopoe] the local redis-server on port $port did not answer; the end of $REDIS_DIR/redis.log:" >&2
    tail -n 5 "$REDIS_DIR/redis.log" >&2 2>/dev/null
    exit 1
  fi
  REDIS_PID="$(cat "$REDIS_DIR/redis.pid")"
  echo "[hoopoe] local Redis on 127.0.0.1:$port (AOF on, data in $REDIS_DIR, log $REDIS_DIR/redis.log)"
  export REDIS_URL="redis://127.0.0.1:$port/0"
fi
# A REDIS_URL of your own is printed as hoopoe prints it, without its passwords (`redis://:secret@host`, `secret@host`,
# `?password=`): `hoopoe ping` says "Redis <version> at <URL, redacted>: PONG …", by the parser's own rule.
ping_line="$("$HOOPOE" ping)" || exit 1
if [ -n "${STARTED_REDIS:-}" ]; then
  shown_url="$REDIS_URL"
else
  shown_url="$(printf '%s\n' "$ping_line" | sed -nE 's/^Redis [^ ]+ at (.*): PONG in .*/\1/p')"
  [ -n "$shown_url" ] || shown_url="(yours, not shown)"
fi
echo "[hoopoe] REDIS_URL=$shown_url"
echo "$ping_line"

if [ -z "${KAVENEGAR_API_KEY:-}${IPPANEL_API_KEY:-}${BREVO_API_KEY:-}" ]; then
  fifo="$LOGS/fake-providers.out"
  rm -f "$fifo"
  setsid "$HOOPOE" dev fake-providers --port 0 </dev/null >"$fifo" 2>>"$LOGS/fake-providers.log" 9>&- &
  pids+=($!)
  helpers+=($!)
  for _ in $(seq 100); do [ "$(grep -c '_API_KEY=' "$fifo" 2>/dev/null)" = 3 ] && break; sleep 0.05; done
  while IFS= read -r line; do
    case "$line" in *=*) export "${line?}" ;; esac
  done <"$fifo"
  export IPPANEL_FROM_NUMBER="${IPPANEL_FROM_NUMBER:-+983000505}"
  export RECEIPT_BASE_URL="${RECEIPT_BASE_URL:-http://localhost/receipt}"
  echo "[hoopoe] no provider keys set: using the local fake providers ($KAVENEGAR_BASE_URL …); no SMS leaves this machine"
fi

# The worker's Prometheus /metrics: 9464, or a free port when 9464 is taken.
metrics_port="${HOOPOE_METRICS_PORT:-9464}"
if python3 -c "import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $metrics_port)) != 0)" 2>/dev/null; then
  metrics_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
setsid "$HOOPOE" worker --queues "${HOOPOE_QUEUES:-critical:6,default:3,low:1}" --metrics-port "$metrics_port" </dev/null >>"$LOGS/worker.log" 2>&1 9>&- &
pids+=($!)
workers+=($!)
setsid "$HOOPOE" scheduler </dev/null >>"$LOGS/scheduler.log" 2>&1 9>&- &
pids+=($!)
workers+=($!)
echo "[hoopoe] worker (pid ${workers[0]}) log: $LOGS/worker.log"
echo "[hoopoe] scheduler (pid ${workers[1]}) log: $LOGS/scheduler.log"
# The dashboard, on loopback: 9460, or a free port when 9460 is taken; its first line is its URL.
dashboard_port="${HOOPOE_DASHBOARD_PORT:-9460}"
python3 -c "import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $dashboard_port)) != 0)" 2>/dev/null && dashboard_port=0
setsid "$HOOPOE" dashboard --port "$dashboard_port" </dev/null >"$LOGS/dashboard.out" 2>>"$LOGS/dashboard.log" 9>&- &
pids+=($!)
helpers+=($!)
for _ in $(seq 100); do grep -q '^dashboard: ' "$LOGS/dashboard.out" 2>/dev/null && break; sleep 0.05; done
echo "[hoopoe] $(head -n 1 "$LOGS/dashboard.out" 2>/dev/null || echo "dashboard: did not start, see $LOGS/dashboard.log") (log: $LOGS/dashboard.log)"
echo "[hoopoe] metrics: http://127.0.0.1:$metrics_port/metrics (Prometheus text, from the worker)"
echo "[hoopoe] try, in another shell:"
if [[ "$shown_url" != *'***'* && "$shown_url" != "(yours, not shown)" ]]; then  # no password in it
  echo "    export REDIS_URL=$REDIS_URL"
else
  echo "    export REDIS_URL=...   # your REDIS_URL, as given to make run ($shown_url)"
fi
echo "    $HOOPOE enqueue diag.record --payload '{\"key\":\"hello\",\"member\":\"world\"}' && redis-cli -u \$REDIS_URL smembers hello"
echo "[hoopoe] running; Ctrl-C stops everything"
# Exit (and clean up) as soon as either process dies, or on Ctrl-C.
wait -n "${pids[@]}"
echo "[hoopoe] a process exited; see the logs above" >&2
exit 1
