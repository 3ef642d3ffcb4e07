import Foundation
import TestSupport
import Testing

/// The Python examples services copy keep their documented exit codes with the redis-py that `make test`
/// installs (scripts/install-deps.sh pins it), whatever that client's default timeouts.
@Suite struct PythonExamplesTests {
    static let hasPython = (try? ChildProcess("/usr/bin/env", ["python3", "-c", "import redis"]))
        .map { process in process.waitBlocking(); return process.poll() == 0 } ?? false

    /// redis-py 8 gives each connection a 5 s socket timeout: one long BLPOP ended with a traceback and exit 1.
    /// A wait longer than that, with no worker to answer, must end as the documented timeout: exit 3.
    @Test func freeCreditWaitOutlastsTheClientsSocketTimeout() async throws {
        // scripts/install-deps.sh installs it (CI runs it): without it this fails, it is not skipped unseen.
        try #require(Self.hasPython, "python3 with the redis package is needed: run scripts/install-deps.sh")
        let h = try CLIHarness()
        let script = BuiltProducts.projectRoot.appendingPathComponent("jobs/examples/freecredit_request.py").path
        let started = ContinuousClock.now
        let process = try ChildProcess("/usr/bin/env", ["python3", script, "1", "--request-id", "patient", "--timeout", "6.5"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace,
        ])
        let status = await process.wait(timeout: .seconds(30))
        let elapsed = ContinuousClock.now - started
        #expect(status == 3, "\(process.output)")
        #expect(process.output.contains(#""status": "timeout""#), "\(process.output)")
        #expect(elapsed >= .seconds(6.5) && elapsed < .seconds(20), "waited \(elapsed)")
    }
}
