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
        let certificates = try TLSCertificates()
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
        let certificates = try TLSCertificates()
        let server = try RedisServer(tls: certificates)
        for command in [["ping"], ["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#], ["worker"], ["health-check"]] {
            let result = try await h.run(command, environment: ["REDIS_URL": server.url, "REDIS_TLS_CA": certificates.otherCAFile], timeout: .seconds(15))
            #expect(result.status == 2, "\(command): \(result.output)")
            #expect(result.output.contains("TLS certificate verification failed"), "\(command): \(result.output)")
        }
    }

    @Test func insecureIsWarnedAboutOnce() async throws {
        let h = try CLIHarness()
        let certificates = try TLSCertificates()
        let server = try RedisServer(tls: certificates)
        let result = try await h.run(["ping"], environment: ["REDIS_URL": "\(server.url)?insecure=true"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: "without verifying the server (insecure=true)").count == 2, "\(result.output)")
    }
}
