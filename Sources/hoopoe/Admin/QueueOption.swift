import ArgumentParser
import HoopoeCore

/// `--queue`, shared by the commands that take a job id. Without it they look in every known queue,
/// because an operator holding an id from a log line rarely knows its queue.
struct QueueOption: ParsableArguments {
    @Option(help: ArgumentHelp("The queue (default: every known queue).", valueName: "queue"))
    var queue: String?

    /// A name no queue can have is a typo to refuse (exit 64), not a queue to find nothing in ("retried 0").
    func validate() throws {
        if let queue, let problem = EnvelopeRules.queueProblem(queue) {
            throw ValidationError("--queue '\(queue)': \(problem)")
        }
    }

    /// The queues to look in: the one given, else every queue Redis knows.
    func queues(_ jobs: JobQueue) async throws -> [String] {
        if let queue { return [queue] }
        return try await jobs.knownQueues()
    }

    /// "queue default" or "any queue (a, b)", for not-found messages.
    func describe(_ searched: [String]) -> String {
        if let queue { return "queue \(queue)" }
        return searched.isEmpty ? "any queue (none exist yet)" : "any queue (\(searched.joined(separator: ", ")))"
    }
}
