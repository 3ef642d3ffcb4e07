import Foundation
import HoopoeCore
import TestSupport
import Testing

/// `hoopoe enqueue`'s stdout holds the new job's id and nothing else: scripts read it there. A duplicate's refusal
/// was printed there, and warned that the job "waits until" a worker serves its queue, of a job never written.
@Suite struct EnqueueOutputStreamsTests {
    /// `hoopoe enqueue ARGUMENTS` in `h`'s namespace, with only one of its streams kept (`2>/dev/null` or `2>&1 >/dev/null`).
    private func run(_ h: CLIHarness, _ arguments: [String], keeping stream: String) async throws -> (status: Int32, output: String) {
        let redirect = stream == "stdout" ? "2>/dev/null" : "2>&1 >/dev/null"
        let process = try ChildProcess("/bin/sh", ["-c", "exec \"$0\" \"$@\" \(redirect)", BuiltProducts.hoopoe, "enqueue"] + arguments, environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
        guard let status = await process.wait(timeout: .seconds(20)) else {
            process.signal(SIGKILL)
            throw TestSupportError("hoopoe enqueue did not finish: \(process.output)")
        }
        return (status, process.output)
    }

    @Test func aDuplicateIsRefusedOnStderrWithoutTheWorkerWarning() async throws {
        let h = try CLIHarness()
        let arguments = ["diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--queue", "rvq", "--unique-key", "u1"]
        let first = try await run(h, arguments, keeping: "stdout")
        #expect(first.status == 0, "\(first.output)")
        let id = first.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 26 && !id.contains(" "), "stdout is the id alone: \(first.output)")

        let refusedOut = try await run(h, arguments, keeping: "stdout")
        #expect(refusedOut.status == 3 && refusedOut.output.isEmpty, "nothing on stdout: \(refusedOut.output)")
        let refusedErr = try await run(h, arguments, keeping: "stderr")
        #expect(refusedErr.status == 3, "\(refusedErr.output)")
        #expect(refusedErr.output.contains("refused: job \(id) with unique key 'u1' is pending or running"), "\(refusedErr.output)")
        #expect(!refusedErr.output.contains("no live worker serves"), "no warning about a job not written: \(refusedErr.output)")

        // A written job still gets the warning, on stderr.
        let other = try await run(h, ["diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--queue", "rvq"], keeping: "stderr")
        #expect(other.status == 0 && other.output.contains("no live worker serves queue `rvq`"), "\(other.output)")
    }

    /// `1e400` is valid JSON syntax, but no double holds it: Foundation's parser refused it, and the payload was "not
    /// valid JSON" with no position.
    @Test func aNumberOutOfRangeIsNamedWithItsPosition() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", #"{"n":1e400}"#])
        #expect(status == 64, "\(output)")
        #expect(output.contains("--payload is not valid JSON: line 1, column 6: the number 1e400 is out of range"), "\(output)")
        let negative = try await h.run(["enqueue", "diag.record", "--payload", "[\n -2.5E+999]"])
        #expect(negative.status == 64 && negative.output.contains("line 2, column 2: the number -2.5E+999 is out of range"), "\(negative.output)")
    }
}
