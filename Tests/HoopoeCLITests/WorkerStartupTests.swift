import Foundation
import Redis
import TestSupport
import Testing

/// `hoopoe worker` touches nothing at start that a worker may never use (docs/decisions/0035): OpenSSL is loaded at
/// the first `rediss://` connection, the providers' HTTP client (NIO's event-loop threads) at the first provider
/// request. A provider job still goes out after that lazy start.
@Suite struct WorkerStartupTests {
    @Test func openSSLAndTheHTTPClientWaitForTheirFirstUse() async throws {
        let h = try CLIHarness()
        let fakes = try ChildProcess(BuiltProducts.hoopoe, ["dev", "fake-providers", "--port", "0"], environment: ["LOG_LEVEL": "warning"])
        defer { fakes.signal(SIGKILL) }
        let fake = try await FakeProviderSettings.read(fakes)
        let worker = try await h.startWorker(
            ["--concurrency", "2"],
            environment: [
                "KAVENEGAR_API_KEY": fake["KAVENEGAR_API_KEY"]!, "KAVENEGAR_BASE_URL": fake["KAVENEGAR_BASE_URL"]!,
                "SMS_QUIET_HOURS": "off", "SMS_TEMPLATES_FILE": BuiltProducts.projectRoot.appendingPathComponent("jobs/sms_templates.yaml").path,
            ])
        defer { worker.signal(SIGKILL) }

        // Running and idle (its heartbeat is in Redis): no libssl mapped, no NIO thread started.
        try await Task.sleep(for: .milliseconds(300))
        #expect(try !Self.mappedFiles(worker.pid).contains { $0.contains("libssl") || $0.contains("libcrypto") }, "OpenSSL loaded at start")
        #expect(try Self.threadNames(worker.pid).filter { $0.hasPrefix("NIO-") } == [], "the HTTP client was made at start")

        // The first provider job makes the client, and the SMS goes out over the fake Kavenegar.
        let sample = BuiltProducts.projectRoot.appendingPathComponent("jobs/samples/sms.send.json").path
        #expect(try await h.run(["enqueue", "sms.send", "--payload", "@" + sample]).status == 0)
        let sent = try await h.eventually(timeout: .seconds(30)) {
            let events = try await h.redis.send("XRANGE", "\(h.namespace):events", "-", "+").array ?? []
            return events.contains { ($0.array?.last?.array ?? []).compactMap(\.string).contains("sms.sent") }
        }
        #expect(sent, "no sms.sent event; worker: \(worker.output.suffix(3000))")
        // The check above can see the client: it exists now.
        #expect(try Self.threadNames(worker.pid).contains { $0.hasPrefix("NIO-") })

        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output.suffix(3000))")
    }

    /// The files a process has mapped (/proc/PID/maps' path column).
    static func mappedFiles(_ pid: pid_t) throws -> Set<String> {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        return Set(maps.split(separator: "\n").compactMap { line in line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(5).first.map(String.init) })
    }

    /// The names of a process's threads (/proc/PID/task/*/comm).
    static func threadNames(_ pid: pid_t) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").compactMap { task in
            try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
