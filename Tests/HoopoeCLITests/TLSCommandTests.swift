import Foundation
import Redis
import TestSupport
import Testing

/// Hoopoe's commands over `rediss://` against a real `redis-server` with TLS only (certificates made by `openssl`
/// for the test): a job enqueued by `hoopoe enqueue` runs in `hoopoe worker`, `hoopoe health-check --canary` passes,
/// and a server the CA did not sign is refused fast with a message that says TLS and certificate.
@Suite struct TLSCommandTests {
    @Test func enqueueWorkerAndHealthCheckOverTLS() async throws {
        let h = try CLIHarness()
        let certificates = try await TLSCertificates.shared()
        let server = try RedisServer(tls: certificates)
        // The CA from the environment, as a deployment would mount it.
        let environment = ["REDIS_URL": server.url, "REDIS_TLS_CA": certificates.caFile]
        let enqueued = try await h.run(["enqueue", "diag.record", "--payload", #"{"key":"tls-e2e","member":"m1"}"#], environment: environment)
        #expect(enqueued.status == 0, "\(enqueued.output)")
        let worker = try ChildProcess(
            BuiltProducts.hoopoe, ["worker"], environment: environment.merging(["HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning"]) { $1 })
        defer { worker.signal(SIGTERM) }
        let redis = try RedisClient(url: "\(server.url)?ca=\(certificates.caFile)")
        defer { redis.close() }
        let ran = try await h.eventually(timeout: .seconds(15)) {
            try await redis.send("SISMEMBER", "tls-e2e", "m1") == .integer(1)
        }
        #expect(ran, "the job ran over TLS: \(worker.output)")
        let health = try await h.run(["health-check", "--canary", "--schedule", noSchedule], environment: environment)
        #expect(health.status == 0, "\(health.output)")
        let ping = try await h.run(["ping"], environment: environment)
        #expect(ping.status == 0 && ping.output.contains("at \(server.url)?ca=\(certificates.caFile): PONG"), "\(ping.output)")
    }

    @Test func aWrongCAIsAConnectionErrorNamingTLSVerification() async throws {
        let h = try CLIHarness()
        let certificates = try await TLSCertificates.shared()
        let server = try RedisServer(tls: certificates)
        for command in [["ping"], ["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#], ["worker"], ["health-check"]] {
            let result = try await h.run(command, environment: ["REDIS_URL": server.url, "REDIS_TLS_CA": certificates.otherCAFile], timeout: .seconds(15))
            #expect(result.status == 2, "\(command): \(result.output)")
            #expect(result.output.contains("TLS certificate verification failed"), "\(command): \(result.output)")
        }
    }

    @Test func insecureIsWarnedAboutOnce() async throws {
        let h = try CLIHarness()
        let certificates = try await TLSCertificates.shared()
        let server = try RedisServer(tls: certificates)
        let result = try await h.run(["ping"], environment: ["REDIS_URL": "\(server.url)?insecure=true"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: "without verifying the server (insecure=true)").count == 2, "\(result.output)")
    }

    /// The TLS section of docs/operating.md: each example line runs against a real TLS server, its host, port,
    /// password and files replaced by the test's; the exit-78 message it quotes is what a missing CA file prints.
    @Test func theOperatingGuideTLSLinesWork() async throws {
        let h = try CLIHarness()
        let certificates = try await TLSCertificates.shared()
        let optional = try RedisServer(arguments: ["--requirepass", "doc-pass"], tls: certificates, clients: "optional")
        let required = try RedisServer(arguments: ["--requirepass", "doc-pass"], tls: certificates, clients: "yes")
        let doc = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("docs/operating.md"), encoding: .utf8)
        guard let section = doc.components(separatedBy: "## TLS").dropFirst().first?.components(separatedBy: "\n## ").first else {
            Issue.record("docs/operating.md has no TLS section")
            return
        }
        let lines = section.split(separator: "\n").filter { $0.hasPrefix("    REDIS_URL=") }
        #expect(lines.count == 3, "\(section)")
        for line in lines {
            let server = line.contains("REDIS_TLS_CERT") ? required : optional
            let text = line.trimmingCharacters(in: .whitespaces)
                .replacingOccurrences(of: "redis.example.com:6380", with: "localhost:\(server.port)")
                .replacingOccurrences(of: "PASSWORD", with: "doc-pass")
                .replacingOccurrences(of: "/etc/hoopoe/redis-ca.pem", with: certificates.caFile)
                .replacingOccurrences(of: "/etc/hoopoe/client.pem", with: certificates.clientCertificate)
                .replacingOccurrences(of: "/etc/hoopoe/client.key", with: certificates.clientKey)
            var environment: [String: String] = [:]
            var words = text.split(separator: " ").map { String($0) }
            while let first = words.first, first != "hoopoe", let equals = first.firstIndex(of: "=") {
                environment[String(first[..<equals])] = String(first[first.index(after: equals)...]).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
                words.removeFirst()
            }
            #expect(words.first == "hoopoe", "\(line)")
            let result = try await h.run(Array(words.dropFirst()), environment: environment)
            #expect(result.status == 0 && result.output.contains("PONG"), "\(line): \(result.output)")
        }
        let quoted = "bad configuration: REDIS_TLS_CA: cannot read '/etc/hoopoe/redis-ca.pem': No such file or directory"
        #expect(section.contains(quoted))
        let missing = try await h.run(["ping"], environment: ["REDIS_URL": optional.url, "REDIS_TLS_CA": "/etc/hoopoe/redis-ca.pem"])
        #expect(missing.status == 78 && missing.output.contains(quoted), "\(missing.output)")
    }

    /// OpenSSL is loaded at the first TLS connection (decision 0035): on a host without libssl (here: the library
    /// hidden by a bind mount of /dev/null in a private mount namespace) plain Redis still works, and a `rediss://`
    /// command fails with exit 2 and the message operating.md quotes. Needs `unshare -m` (root, as in CI).
    @Test(.enabled(if: Self.mountNamespacesWork, "needs `unshare -m` (CAP_SYS_ADMIN)"))
    func withoutOpenSSLPlainRedisWorksAndTLSSaysWhy() async throws {
        let section = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("docs/operating.md"), encoding: .utf8)
        let quoted = "TLS: cannot load OpenSSL: "
        #expect(section.contains("`\(quoted)`"))
        let plain = try RedisServer()
        // $1: the hoopoe binary, $2: a plain URL, $3: a TLS URL; both pings run with libssl hidden.
        let script = """
            lib=$(ldconfig -p | awk '/libssl\\.so\\.3 /{print $NF; exit}')
            [ -n "$lib" ] && mount --bind /dev/null "$(readlink -f "$lib")" || { echo "no libssl.so.3 to hide"; exit 9; }
            REDIS_URL="$2" "$1" ping; echo "plain=$?"
            REDIS_URL="$3" "$1" ping; echo "tls=$?"
            """
        let run = try ChildProcess("/usr/bin/unshare", ["-m", "sh", "-c", script, "sh", BuiltProducts.hoopoe, plain.url, "rediss://127.0.0.1:\(plain.port)/0"])
        #expect(await run.wait(timeout: .seconds(30)) == 0, "\(run.output)")
        #expect(run.output.contains("PONG") && run.output.contains("plain=0"), "\(run.output)")
        #expect(run.output.contains(quoted) && run.output.contains("tls=2"), "\(run.output)")
    }

    static let mountNamespacesWork: Bool = {
        guard let probe = try? ChildProcess("/usr/bin/unshare", ["-m", "true"]) else { return false }
        probe.waitBlocking()
        return probe.poll() == 0
    }()
}
