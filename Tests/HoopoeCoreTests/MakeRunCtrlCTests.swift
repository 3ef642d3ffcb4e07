import Foundation
import HoopoeJSON
import TestSupport
import Testing

/// Ctrl-C typed at the terminal running `make run`: the real Makefile under a pseudo-terminal, so the SIGINT goes to
/// the terminal's foreground process group exactly as it does for a user, `make` included. A 3 s job is running when
/// Ctrl-C is typed: it finishes, and `make` exits 0 without "Interrupt". A Ctrl-C typed during start-up (as soon as the
/// script's first line shows) stops it in order too: `make` exits 0 and the local Redis it started is stopped.
///
/// Runs `make -o release run`: the real `run` target and script, without remaking the release build (a release build
/// from scratch takes minutes; `HOOPOE_BIN` points the script at the debug binary instead).
@Suite struct MakeRunCtrlCTests {
    /// Both drivers' reader of the terminal: what `fd` (the pseudo-terminal) prints is added to `out` for up to
    /// `seconds`, or until `until()`; False once the terminal is closed.
    static let pump = #"""
        def pump(seconds, until=lambda: False):
            global out
            end = time.time() + seconds
            while time.time() < end and not until():
                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready:
                    try:
                        chunk = os.read(fd, 65536)
                    except OSError:
                        return False
                    if not chunk:
                        return False
                    out += chunk
            return True
        """#

    /// The pseudo-terminal driver. Arguments: project root, hoopoe binary, data folder, Redis port, and when to type
    /// Ctrl-C (`job`: while a slow job runs; `twice`: while a 30 s job runs, and again a second into the drain;
    /// `startup`: at the script's first `[hoopoe]` line). Prints one JSON object:
    /// make's exit code, its terminal output, the slow job's id, whether it had started before Ctrl-C, whether the
    /// local Redis is still alive. Progress goes to stderr as it happens; if `make` has not exited by its deadline, the
    /// driver prints the processes it left and the terminal output, kills them, and exits 3 (so a hang says why).
    static let driver = #"""
        import json, os, pty, re, select, signal, subprocess, sys, time
        root, hoopoe, data, port, mode = sys.argv[1:6]
        began = time.time()
        def say(message):
            print(f"[driver {time.time() - began:6.1f}s] {message}", file=sys.stderr, flush=True)
        env = dict(os.environ, REDIS_URL="", HOOPOE_BIN=hoopoe, HOOPOE_DATA_DIR=data, LOCAL_REDIS_PORT=port, SMS_QUIET_HOURS="off")
        for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
            env.pop(k, None)
        pid, fd = pty.fork()
        if pid == 0:
            os.execvpe("make", ["make", "--no-print-directory", "-C", root, "-o", "release", "run"], env)
        say(f"make started, pid {pid}, Ctrl-C mode {mode}")
        out = b""
        \#(Self.pump)
        def descendants(root_pid):
            rows = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout.split()
            children = {}
            for child, parent in zip(rows[0::2], rows[1::2]):
                children.setdefault(int(parent), []).append(int(child))
            found, todo = [], [root_pid]
            while todo:
                p = todo.pop()
                found.append(p)
                todo += children.get(p, [])
            return found
        def redis_pid():
            try:
                return int(open(os.path.join(data, ".redis-data/redis.pid")).read().strip())
            except (OSError, ValueError):
                return None
        def alive(p):
            try:
                os.kill(p, 0)
                return True
            except OSError:
                return False
        job_id, started = "", False
        if mode == "startup":
            pump(60, lambda: b"[hoopoe]" in out)
            say("first [hoopoe] line seen" if b"[hoopoe]" in out else "no [hoopoe] line within 60 s")
        else:
            pump(60, lambda: b"Ctrl-C stops everything" in out)
            say("script running" if b"Ctrl-C stops everything" in out else "script not running within 60 s")
            url = re.search(rb"\[hoopoe\] REDIS_URL=(\S+)", out)
            if url:
                sleep_ms = 30000 if mode == "twice" else 3000
                enqueue = subprocess.run([hoopoe, "enqueue", "diag.record", "--payload", '{"key":"slow","member":"done","sleep_ms":%d}' % sleep_ms],
                                         env=dict(os.environ, REDIS_URL=url.group(1).decode()), capture_output=True, text=True)
                job_id = (enqueue.stdout.strip().splitlines() or [""])[-1]
                say(f"enqueued {job_id!r} (exit {enqueue.returncode}) {enqueue.stderr.strip()}")
                log = os.path.join(data, ".hoopoe/logs/worker.log")
                def running():
                    try:
                        return any(job_id in line and "job started" in line for line in open(log))
                    except FileNotFoundError:
                        return False
                deadline = time.time() + 20
                while time.time() < deadline and not running():
                    pump(0.05)
                started = running()
                say(f"slow job started: {started}")
        os.write(fd, b"\x03")  # Ctrl-C, typed
        say("Ctrl-C typed")
        typed = time.time()
        if mode == "twice":
            pump(60, lambda: b"stopping" in out)  # the script's drain has begun
            pump(1)
            os.write(fd, b"\x03")  # and again, while the 30 s job runs
            say("Ctrl-C typed again")
        if pump(60):  # until every process holding the terminal is gone
            say("the terminal is still open 60 s after Ctrl-C")
        else:
            say("the terminal closed")
        status = None
        deadline = time.time() + 15
        while status is None and time.time() < deadline:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = raw
            else:
                time.sleep(0.1)
        if status is None:
            say("make has not exited; its processes:")
            tree = descendants(pid)
            print(subprocess.run(["ps", "-o", "pid,ppid,pgid,sid,stat,wchan:20,args", "-p", ",".join(map(str, tree))],
                                 capture_output=True, text=True).stdout, file=sys.stderr, flush=True)
            print(subprocess.run(["ps", "-o", "pid,ppid,pgid,sid,stat,args", "-s", str(pid)], capture_output=True, text=True).stdout,
                  file=sys.stderr, flush=True)
            print("terminal output so far:\n" + out.decode(errors="replace"), file=sys.stderr, flush=True)
            for p in reversed(tree):
                for sig in (signal.SIGKILL, signal.SIGCONT):
                    try:
                        os.kill(p, sig)
                    except OSError:
                        pass
            if redis_pid():
                try:
                    os.kill(redis_pid(), signal.SIGKILL)
                except OSError:
                    pass
            sys.exit(3)
        say(f"make exited: {os.waitstatus_to_exitcode(status)}")
        redis = redis_pid()
        redis_alive = redis is not None and alive(redis)
        if redis_alive:
            os.kill(redis, signal.SIGKILL)
        print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "output": out.decode(errors="replace"), "job_id": job_id,
                          "started": started, "redis_alive": redis_alive, "stopped_after": time.time() - typed}))
        """#

    /// Runs the driver in a fresh data folder; returns its result and the worker's log.
    private func runMake(ctrlC mode: String) async throws -> (result: JSONValue, workerLog: String) {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        let port = try RedisServer.freePort()
        let driver = try ChildProcess("/usr/bin/env", ["python3", "-c", Self.driver, BuiltProducts.projectRoot.path, BuiltProducts.hoopoe, data.path, String(port), mode])
        defer { driver.signal(SIGKILL) }
        // The driver gives up on its own (exit 3, with a diagnosis) well before this.
        #expect(await driver.wait(timeout: .seconds(200)) == 0, "\(driver.output)")
        let line = driver.output.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
        let result = try #require(JSONValue.parse(Array(line.utf8)), "\(driver.output)")
        let workerLog = (try? String(contentsOf: data.appendingPathComponent(".hoopoe/logs/worker.log"), encoding: .utf8)) ?? ""
        return (result, workerLog)
    }

    @Test func ctrlCAtTheTerminalDrainsTheRunningJobAndMakeExits0() async throws {
        let (result, workerLog) = try await runMake(ctrlC: "job")
        let output = result["output"]?.stringValue ?? ""
        let jobID = result["job_id"]?.stringValue ?? ""
        #expect(result["started"] == .bool(true), "the slow job was running when Ctrl-C was typed: \(output)")
        #expect(result["exit"] == .integer(0), "make exits 0: \(output)")
        #expect(!output.contains("Interrupt"), "make was not interrupted: \(output)")
        #expect(output.contains("[hoopoe] stopped"), "\(output)")
        #expect(result["redis_alive"] == .bool(false), "the local Redis was stopped: \(output)")
        #expect(!jobID.isEmpty && workerLog.split(separator: "\n").contains { $0.contains(jobID) && $0.contains("job done") },
                "the running job finished: \(workerLog)")
        #expect(workerLog.components(separatedBy: "graceful shutdown").count == 2, "one signal reached the worker: \(workerLog)")
    }

    /// README: "a second Ctrl-C stops at once (running jobs go back to their queue)". A 30 s job is running: the
    /// second Ctrl-C ends the drain within seconds, the job is handed back unfinished, and `make` exits 0.
    @Test func aSecondCtrlCStopsAtOnceAndHandsTheRunningJobBack() async throws {
        let (result, workerLog) = try await runMake(ctrlC: "twice")
        let output = result["output"]?.stringValue ?? ""
        let jobID = result["job_id"]?.stringValue ?? ""
        #expect(result["started"] == .bool(true), "the 30 s job was running when Ctrl-C was typed: \(output)")
        #expect(output.contains("[hoopoe] stopping at once"), "\(output)")
        #expect(result["exit"] == .integer(0), "make exits 0: \(output)")
        #expect((result["stopped_after"]?.doubleValue ?? 99) < 15, "stopped within seconds of the first Ctrl-C, not after the job's 30 s: \(result)")
        let lines = workerLog.split(separator: "\n")
        #expect(!jobID.isEmpty && !lines.contains { $0.contains(jobID) && $0.contains("job done") }, "the job did not finish: \(workerLog)")
        #expect(lines.contains { $0.contains(jobID) && $0.contains("handed back to its queue") }, "it went back to its queue: \(workerLog)")
        #expect(result["redis_alive"] == .bool(false), "the local Redis was stopped: \(output)")
    }

    /// `make run &` typed at an interactive bash (under a pseudo-terminal): the script used to make its own process
    /// group the terminal's foreground one whenever stdin was a terminal, so from the background it took the terminal
    /// from the shell, which read EOF and exited. It takes the terminal only from the foreground now: the shell goes on
    /// answering commands while the run runs, and `kill -INT %1` stops the run, its Redis too. Prints one JSON object:
    /// whether the run said it runs, whether the shell answered twice meanwhile, the job's end, the processes of the
    /// run still there afterwards (killed then), the terminal's output.
    static let backgroundDriver = #"""
        import json, os, pty, re, select, shlex, signal, sys, time
        root, hoopoe, data, port, metrics, dashboard = sys.argv[1:7]
        env = dict(os.environ, REDIS_URL="", HOOPOE_BIN=hoopoe, HOOPOE_DATA_DIR=data, LOCAL_REDIS_PORT=port,
                   HOOPOE_METRICS_PORT=metrics, HOOPOE_DASHBOARD_PORT=dashboard, PS1="PROMPT$ ", HISTFILE="/dev/null", TERM="dumb")
        for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "HOOPOE_RUN_TERMINAL_GROUP"):
            env.pop(k, None)
        pid, fd = pty.fork()
        if pid == 0:
            os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], env)
        out = b""
        \#(Self.pump)
        def type(text):  # the shell may be gone (the terminal taken from it): nothing to type to
            try:
                os.write(fd, text.encode())
            except OSError:
                pass
        def run_processes():  # every process of the run: they all have its HOOPOE_DATA_DIR (redis-server too)
            found = []
            for entry in os.listdir("/proc"):
                if entry.isdigit() and int(entry) != os.getpid():
                    try:
                        if f"HOOPOE_DATA_DIR={data}\0".encode() in open(f"/proc/{entry}/environ", "rb").read():
                            found.append(int(entry))
                    except OSError:
                        pass
            return found
        pump(10, lambda: b"PROMPT$ " in out)
        type(f"make --no-print-directory -C {shlex.quote(root)} -o release run &\n")
        pump(60, lambda: b"Ctrl-C stops everything" in out)
        running = b"Ctrl-C stops everything" in out
        answered = 0
        for n in (41, 42):
            pump(0.5)
            type(f"echo shell-$(({n} * 2))\n")  # the echo of the line typed is not the answer
            pump(10, lambda: f"shell-{n * 2}".encode() in out)
            answered += f"shell-{n * 2}".encode() in out
        type("kill -INT %1; wait %1; echo job-ended-$?\n")
        pump(60, lambda: re.search(rb"job-ended-\d", out) is not None)
        ended = re.search(rb"job-ended-(\d+)", out)
        type("exit\n")
        pump(10)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        os.waitpid(pid, 0)
        deadline = time.time() + 30  # a run the closed terminal hung up on stops on its own: give it the time
        while run_processes() and time.time() < deadline:
            time.sleep(0.2)
        left = run_processes()
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        print(json.dumps({"running": running, "answered": answered, "job_ended": int(ended.group(1)) if ended else None,
                          "left": left, "output": out.decode(errors="replace")}))
        """#

    @Test func makeRunInTheBackgroundLeavesTheShellItsTerminal() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        let driver = try ChildProcess("/usr/bin/env", ["python3", "-c", Self.backgroundDriver, BuiltProducts.projectRoot.path, BuiltProducts.hoopoe, data.path,
                                                       String(try RedisServer.freePort()), String(try RedisServer.freePort()), String(try RedisServer.freePort())])
        defer { driver.signal(SIGKILL) }
        #expect(await driver.wait(timeout: .seconds(200)) == 0, "\(driver.output)")
        let line = driver.output.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
        let result = try #require(JSONValue.parse(Array(line.utf8)), "\(driver.output)")
        let output = result["output"]?.stringValue ?? ""
        #expect(result["running"] == .bool(true), "the run started in the background: \(output)")
        #expect(result["answered"] == .integer(2), "the shell kept its terminal and answered: \(output)")
        #expect(result["job_ended"]?.int64Value != nil, "kill -INT %1 ended the job: \(output)")
        #expect(output.contains("[hoopoe] stopped"), "the run stopped in order: \(output)")
        #expect(result["left"] == .array([]), "nothing of the run was left: \(result)")
    }

    @Test func ctrlCDuringStartUpStopsInOrderAndMakeExits0() async throws {
        let (result, _) = try await runMake(ctrlC: "startup")
        let output = result["output"]?.stringValue ?? ""
        #expect(result["exit"] == .integer(0), "make exits 0: \(output)")
        #expect(!output.contains("Interrupt"), "make was not interrupted: \(output)")
        #expect(output.contains("[hoopoe] stopped"), "\(output)")
        #expect(!output.contains("Ctrl-C stops everything"), "the Ctrl-C came during start-up: \(output)")
        #expect(result["redis_alive"] == .bool(false), "the local Redis it had started was stopped: \(output)")
    }
}
