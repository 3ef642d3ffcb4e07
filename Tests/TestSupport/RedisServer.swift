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
    private let process = Mutex<ChildProcess?>(nil)
    /// Whether the port speaks TLS only (`--tls-port`, `--port 0`).
    public let tls: Bool

    /// The server's URL, without credentials: `rediss://localhost:PORT/0` (the name its test certificate carries)
    /// for a TLS server, without a CA (add `?ca=`).
    public var url: String { tls ? "rediss://localhost:\(port)/0" : "redis://127.0.0.1:\(port)/0" }

    /// Starts a server on a free port.
    /// - Parameters:
    ///   - arguments: extra `redis-server` options, e.g. `["--requirepass", "x"]`.
    ///   - tls: serve TLS only on the port with these certificates (`clients` as `--tls-auth-clients`), or nil.
    public init(arguments: [String] = [], tls: TLSCertificates? = nil, clients: String = "no") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let servesTLS = tls != nil
        self.tls = servesTLS
        self.arguments = (tls?.serverArguments(clients: clients) ?? []) + arguments
        // A free port may be taken between asking the kernel and the server's bind (another test's server or
        // outgoing connection, on a loaded machine): a server that exits at once is tried on another port.
        var attempt = 0
        while true {
            let candidate = try Self.freePort()
            do {
                let started = try Self.spawn(port: candidate, directory: directory, arguments: self.arguments, tls: servesTLS)
                port = candidate
                process.withLock { $0 = started }
                return
            } catch is ExitedEarly where attempt < 2 {
                attempt += 1
            }
        }
    }

    /// The server process ended before it listened (its log says why, usually a port already in use).
    struct ExitedEarly: Error, CustomStringConvertible {
        let description: String
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts (or restarts) the process and waits until it answers PING.
    public func start() throws {
        let started = try Self.spawn(port: port, directory: directory, arguments: arguments, tls: tls)
        process.withLock { $0 = started }
    }

    /// Starts `redis-server` on `port` and waits until it answers.
    private static func spawn(port: Int, directory: URL, arguments: [String], tls: Bool = false) throws -> ChildProcess {
        let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else {
            throw TestSupportError("redis-server is not installed: run `make test` (it installs redis-server), or apt-get install -y redis-server")
        }
        let ports = tls ? ["--port", "0", "--tls-port", String(port)] : ["--port", String(port)]
        let argv = [binary] + ports + ["--bind", "127.0.0.1", "--dir", directory.path, "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path] + arguments
        // posix_spawn (ChildProcess), not Foundation's Process: Process.waitUntilExit can hang on Linux
        // when called from a deinit on a cooperative thread, and a test harness must never hang.
        let started = try ChildProcess(argv[0], Array(argv.dropFirst()), logPath: "/dev/null")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if canConnect(port: port) { return started }
            if let status = started.poll() {
                let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
                throw ExitedEarly(description: "redis-server exited (\(status)) before listening on port \(port): \(log.suffix(500))")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        started.signal(SIGKILL)
        throw TestSupportError("redis-server did not start on port \(port) within 10 s; see \(directory.path)/redis.log")
    }

    /// Kills the process at once (SIGKILL), as a crash or OOM kill would.
    public func kill() {
        signalAndReap(SIGKILL)
    }

    /// Freezes the process (SIGSTOP): connections stay open and nothing answers, as on a partitioned or frozen host
    /// (no refusal, unlike ``kill()``). ``thaw()`` before it is stopped.
    public func freeze() {
        process.withLock { $0?.signal(SIGSTOP) }
    }

    /// Lets a frozen process run on (SIGCONT).
    public func thaw() {
        process.withLock { $0?.signal(SIGCONT) }
    }

    /// Stops the process politely (SIGTERM) and waits for it.
    public func stop() {
        signalAndReap(SIGTERM)
    }

    private func signalAndReap(_ signal: Int32) {
        process.withLock { process in
            process?.signal(signal)
            process?.waitBlocking()
            process = nil
        }
    }

    /// Waits until a client of this server is blocked in a command (`blocked_clients` in `INFO clients`), so that a
    /// test acts on a blocked read rather than on one still on its way. Plain servers only.
    public func waitUntilBlocked(timeout: Duration = .seconds(10)) async throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        defer { client.close() }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let info = try await client.send("INFO", "clients").string ?? ""
            let blocked = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("blocked_clients:") }
            if let blocked, let count = Int(blocked.dropFirst("blocked_clients:".count)), count > 0 { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestSupportError("no client of port \(port) was blocked within \(timeout)")
    }

    /// Whether something on 127.0.0.1 accepts a TCP connection on `port` now.
    public static func canConnect(port: Int) -> Bool {
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

    /// A port nothing listens on now, below the kernel's ephemeral range and never handed out before by this process.
    ///
    /// Below the range: the kernel picks the ports of outgoing connections (and of `bind` to port 0) from it, so a port
    /// there that a killed server is to restart on (``kill()``, ``start()``) was taken meanwhile by another test's
    /// connection now and then, and the restart failed (the server exits at once: address in use). Below it only another
    /// `freePort` picks: in this process never the same port twice, and in another (a second `swift test`) at random
    /// among thousands. Where the range leaves no room below it, the kernel picks (binding port 0).
    public static func freePort() throws -> Int {
        let range = ephemeralRange
        if range.lowerBound - ownedPortsStart >= 1000 {
            for _ in 0..<200 {
                let candidate = Int.random(in: ownedPortsStart..<range.lowerBound)
                guard handedOut.withLock({ $0.insert(candidate).inserted }) else { continue }
                if (try? bound(port: candidate)) != nil { return candidate }
            }
        }
        return try bound(port: 0)
    }

    /// Where ``freePort()``'s own ports begin: above the well-known and the commonly configured ones.
    private static let ownedPortsStart = 20_000

    /// The ports ``freePort()`` handed out in this process.
    private static let handedOut = Mutex<Set<Int>>([])

    /// The kernel's ephemeral ports (`net.ipv4.ip_local_port_range`; Linux's default when unreadable).
    private static let ephemeralRange: ClosedRange<Int> = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { return 32_768...60_999 }
        return bounds[0]...bounds[1]
    }()

    /// Binds 127.0.0.1:`port` (0: any) and lets it go at once.
    /// - Returns: the port bound.
    /// - Throws: when it is in use.
    private static func bound(port: Int) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
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
