import Foundation
import TestSupport
import Testing

/// Options refused where they cannot mean what was written.
@Suite struct CommandOptionsTests {
    /// `--queues 'critical:6,:3,low:1'` served a queue named `3`, and `default:` took weight 1: usage errors (64), as
    /// `a,,b` is.
    @Test(arguments: [("critical:6,:3,low:1", "':3' has no queue name"), ("critical:6,default:,low:1", "'default:' has no weight")])
    func anEmptyQueueNameOrWeightIsAUsageError(queues: String, message: String) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["worker", "--queues", queues], timeout: .seconds(15))
        #expect(status == 64, "\(output)")
        #expect(output.contains("--queues: \(message)"), "\(output)")
    }

    /// `ping` and `functions load` use no key prefix (functions belong to the whole server): they took `--namespace`
    /// and did nothing with it.
    @Test(arguments: [["ping"], ["functions", "load"]])
    func commandsWithoutKeysTakeNoNamespace(command: [String]) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(command + ["--namespace", "elsewhere"])
        #expect(status == 64 && output.contains("Unknown option '--namespace'"), "\(output)")
        let help = try await h.run(command + ["--help"])
        #expect(help.status == 0 && help.output.contains("--redis-url") && !help.output.contains("--namespace"), "\(help.output)")
    }
}
