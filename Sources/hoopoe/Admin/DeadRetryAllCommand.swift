import ArgumentParser
import HoopoeCore

/// `hoopoe dead retry-all`: empties the dead set back into the queues, after a fix was deployed.
struct DeadRetryAllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry-all",
        abstract: "Put every dead job of a queue (or of every queue) back, attempts reset to 0.",
        discussion: """
            It goes through the jobs dead when it starts, oldest first: a retried job that dies again while it runs \
            stays dead (run it again to retry it once more). Jobs that cannot run (a malformed envelope kept for \
            inspection) stay in the dead set. Prints how many were moved per queue. Exit 0.
            """
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queueOption: QueueOption

    func run() async throws {
        let moved = try await options.withJobQueue { jobs in
            var moved: [(String, Int)] = []
            for queue in try await queueOption.queues(jobs) { moved.append((queue, try await jobs.retryAllDead(queue: queue))) }
            return moved
        }
        let total = moved.reduce(0) { $0 + $1.1 }
        let detail = moved.filter { $0.1 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        print("retried \(total) dead job(s)" + (detail.isEmpty ? "" : ": \(detail)"))
    }
}
