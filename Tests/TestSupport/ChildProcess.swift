import Foundation
import Synchronization

/// A child process for tests that need a real process (to SIGKILL a worker, to SIGTERM one), started
/// with posix_spawn and an empty signal mask (the concurrency pool's threads block signals, and a child
/// would inherit that mask).
public final class ChildProcess: Sendable {
    /// The process id.
    public let pid: pid_t
    /// Where stdout and stderr go.
    public let logPath: String
    /// Whether the log file is this object's to delete (it made a temporary one).
    private let ownsLog: Bool
    private let status = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`; `environment` is added to this process's environment.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], logPath: String? = nil) throws {
        let log = logPath ?? FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-child-\(UUID().uuidString).log").path
        self.logPath = log
        ownsLog = logPath == nil
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = Self.closeFrom3?(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { $1 }
        var cArguments = ([executable] + arguments).map { strdup($0) } + [nil]
        var cEnvironment = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, &cArguments, &cEnvironment)
        guard result == 0 else { throw TestSupportError("could not start \(executable): error \(result)") }
        pid = child
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; Glibc's Swift module does not export it),
    /// looked up at run time: the child gets stdin, stdout and stderr, not every descriptor of the test process that
    /// is not close-on-exec. A `redis-server` started by one suite once held another test's socket open, so that
    /// test's wait for the socket's close timed out (session 12). Nil on an older glibc: the child inherits them.
    private static var closeFrom3: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }

    /// Sends a signal.
    public func signal(_ number: Int32) {
        kill(pid, number)
    }

    /// Waits up to `timeout` for the process to exit; returns its exit status (or nil if still running).
    public func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let code = poll() { return code }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return poll()
    }

    /// Waits for the process to exit, blocking the thread (for `deinit` and other synchronous paths).
    public func waitBlocking() {
        status.withLock { status in
            guard status == nil else { return }
            var raw: Int32 = 0
            if waitpid(pid, &raw, 0) == pid { status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f) }
        }
    }

    /// The exit status if the process has exited (128 + signal when killed by one).
    public func poll() -> Int32? {
        status.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
            let code = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            status = code
            return code
        }
    }

    /// What the process printed.
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if poll() == nil {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
        }
        if ownsLog { try? FileManager.default.removeItem(atPath: logPath) }
    }
}

/// Paths of the built products next to the running test bundle.
public enum BuiltProducts {
    /// `.build/<config>/hoopoe`.
    public static var hoopoe: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("hoopoe").path
    }

    /// The project's root folder (for `jobs/`).
    public static var projectRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }
}
