import ArgumentParser
import HoopoeCore

/// `hoopoe dead retry-all`: empties the dead set back into the queues, after a fix was deployed.
struct DeadRetryAllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry-all",
        abstract: "Put every dead job of a queue (or of every queue) back, attempts reset to 0.",
        discussion: """
            It goes through the jobs dead when it starts, oldest first: a retried job that dies again while it runs \
            stays dead (run it again to retry it once more). Jobs that cannot run stay in the dead set: a malformed \
            envelope kept for inspection, and a job of a type no worker ran when it died whose payload keys named \
            like secrets (password, token, api_key, ...) were not kept (it would run without them: enqueue it again \
            from its source). Prints how many were moved per queue, and how many were skipped. Exit 0.
            """
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queueOption: QueueOption

    func run() async throws {
        let results = try await options.withJobQueue { jobs in
            var results: [(queue: String, result: JobQueue.DeadBatchResult)] = []
            for queue in try await queueOption.queues(jobs) { results.append((queue, try await jobs.retryAllDead(queue: queue))) }
            return results
        }
        let total = results.reduce(0) { $0 + $1.result.done }
        let detail = results.filter { $0.result.done > 0 }.map { "\($0.queue) \($0.result.done)" }.joined(separator: ", ")
        print("retried \(total) dead job(s)" + (detail.isEmpty ? "" : ": \(detail)"))
        let left = results.filter { $0.result.skipped > 0 }
        if !left.isEmpty {
            let places = left.map { "\($0.queue) \($0.result.skipped)" }.joined(separator: ", ")
            print("skipped \(left.reduce(0) { $0 + $1.result.skipped }) (\(places)): left dead as unable to run again, or gone meanwhile; `hoopoe dead show ID` says why one cannot run")
        }
    }
}
