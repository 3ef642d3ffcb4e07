import Foundation
import Redis
import Synchronization

/// A private `redis-server` process for one test: its own port and folder, so a test may kill,
/// restart or reconfigure it without touching anyone else's data.
public final class RedisServer: Sendable {
    /// The TCP port it listens on.
    public let port: Int
    /// Its working folder (dump and AOF files land here).
    public let directory: URL
    private let arguments: [String]
    private let pid = Mutex<pid_t?>(nil)

    /// The server's URL, without credentials.
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    /// Starts a server on a free port.
    /// - Parameter arguments: extra `redis-server` options, e.g. `["--requirepass", "x"]`.
    public init(arguments: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try Self.freePort()
        self.arguments = arguments
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts (or restarts) the process and waits until it answers PING.
    public func start() throws {
        let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else {
            throw TestSupportError("redis-server is not installed: run `make test` (it installs redis-server), or apt-get install -y redis-server")
        }
        let argv = [binary, "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path, "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path] + arguments
        // posix_spawn, not Foundation's Process: Process.waitUntilExit can hang on Linux when called
        // from a deinit on a cooperative thread, and a test harness must never hang.
        let started = try Self.spawn(argv)
        pid.withLock { $0 = started }
        try waitUntilListening()
    }

    /// Kills the process at once (SIGKILL), as a crash or OOM kill would.
    public func kill() {
        signalAndReap(SIGKILL)
    }

    /// Stops the process politely (SIGTERM) and waits for it.
    public func stop() {
        signalAndReap(SIGTERM)
    }

    private func signalAndReap(_ signal: Int32) {
        pid.withLock { pid in
            guard let running = pid else { return }
            Foundation.kill(running, signal)
            var status: Int32 = 0
            _ = waitpid(running, &status, 0)
            pid = nil
        }
    }

    private static func spawn(_ argv: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        // Threads of the concurrency pool block most signals, and a spawned child inherits that mask:
        // without resetting it, redis-server would ignore SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var child: pid_t = 0
        let result = posix_spawn(&child, argv[0], &actions, &attributes, &cArguments, environ)
        guard result == 0 else { throw TestSupportError("could not start \(argv[0]): error \(result)") }
        return child
    }

    private func waitUntilListening() throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.canConnect(port: port) { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw TestSupportError("redis-server did not start on port \(port); see \(directory.path)/redis.log")
    }

    private static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Asks the kernel for a free port by binding port 0.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestSupportError("no free port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A failure in the test harness itself (not in the code under test).
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
