import Foundation
import HoopoeJSON
import TestSupport
import Testing

/// Ctrl-C typed at the terminal running `make run`: the real Makefile under a pseudo-terminal, so the SIGINT goes to
/// the terminal's foreground process group exactly as it does for a user, `make` included. A 3 s job is running when
/// Ctrl-C is typed: it finishes, and `make` exits 0 without "Interrupt".
///
/// Runs `make -o release run`: the real `run` target and script, without remaking the release build (a release build
/// from scratch takes minutes; `HOOPOE_BIN` points the script at the debug binary instead).
@Suite struct MakeRunCtrlCTests {
    /// The pseudo-terminal driver. Arguments: project root, hoopoe binary, data folder, Redis port. Prints one JSON
    /// object: make's exit code, its terminal output, the slow job's id, whether it had started before Ctrl-C.
    static let driver = #"""
        import json, os, pty, re, select, subprocess, sys, time
        root, hoopoe, data, port = sys.argv[1:5]
        env = dict(os.environ, REDIS_URL="", HOOPOE_BIN=hoopoe, HOOPOE_DATA_DIR=data, LOCAL_REDIS_PORT=port, SMS_QUIET_HOURS="off")
        for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
            env.pop(k, None)
        pid, fd = pty.fork()
        if pid == 0:
            os.execvpe("make", ["make", "--no-print-directory", "-C", root, "-o", "release", "run"], env)
        out = b""
        def pump(seconds, until=lambda: False):
            global out
            end = time.time() + seconds
            while time.time() < end and not until():
                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready:
                    try:
                        chunk = os.read(fd, 65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    out += chunk
        pump(60, lambda: b"Ctrl-C stops everything" in out)
        url = re.search(rb"\[hoopoe\] REDIS_URL=(\S+)", out)
        job_id, started = "", False
        if url:
            enqueue = subprocess.run([hoopoe, "enqueue", "diag.record", "--payload", '{"key":"slow","member":"done","sleep_ms":3000}'],
                                     env=dict(os.environ, REDIS_URL=url.group(1).decode()), capture_output=True, text=True)
            job_id = (enqueue.stdout.strip().splitlines() or [""])[-1]
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
        os.write(fd, b"\x03")  # Ctrl-C, typed
        pump(90)  # until every process holding the terminal is gone
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "output": out.decode(errors="replace"), "job_id": job_id, "started": started}))
        """#

    @Test func ctrlCAtTheTerminalDrainsTheRunningJobAndMakeExits0() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        let port = Int.random(in: 20_000...60_000)
        let driver = try ChildProcess("/usr/bin/env", ["python3", "-c", Self.driver, BuiltProducts.projectRoot.path, BuiltProducts.hoopoe, data.path, String(port)])
        defer { driver.signal(SIGKILL) }
        #expect(await driver.wait(timeout: .seconds(200)) == 0, "\(driver.output)")
        let line = driver.output.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
        let result = try #require(JSONValue.parse(Array(line.utf8)), "\(driver.output)")
        let output = result["output"]?.stringValue ?? ""
        let jobID = result["job_id"]?.stringValue ?? ""
        #expect(result["started"] == .bool(true), "the slow job was running when Ctrl-C was typed: \(output)")
        #expect(result["exit"] == .integer(0), "make exits 0: \(output)")
        #expect(!output.contains("Interrupt"), "make was not interrupted: \(output)")
        #expect(output.contains("[hoopoe] stopped"), "\(output)")
        let workerLog = (try? String(contentsOf: data.appendingPathComponent(".hoopoe/logs/worker.log"), encoding: .utf8)) ?? ""
        #expect(!jobID.isEmpty && workerLog.split(separator: "\n").contains { $0.contains(jobID) && $0.contains("job done") },
                "the running job finished: \(workerLog)")
        #expect(workerLog.components(separatedBy: "graceful shutdown").count == 2, "one signal reached the worker: \(workerLog)")
    }
}
