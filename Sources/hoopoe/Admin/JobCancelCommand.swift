import ArgumentParser
import HoopoeCore

/// `hoopoe job cancel ID`: takes a waiting job off its queue before it runs.
struct JobCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job that is ready or scheduled; running jobs are not interrupted.",
        discussion: """
            A cancelled job is removed and its unique key released. Exit 0 cancelled, 1 not found (finished, dead, \
            or never existed; see `hoopoe dead` for dead jobs), 3 running (a worker holds it; it will finish).
            """
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queueOption: QueueOption

    @Argument(help: "The job id.")
    var id: String

    func run() async throws {
        let outcome: (queue: String?, result: CancelResult, dead: Bool, searched: [String]) = try await options.withJobQueue { jobs in
            let queues = try await queueOption.queues(jobs)
            guard let (queue, job) = try await JobLookup.find(id: id, in: queues, jobs: jobs) else { return (nil, .notFound, false, queues) }
            if case .dead = job.state { return (queue, .notFound, true, queues) }
            return (queue, try await jobs.cancel(id: id, queue: queue), false, queues)
        }
        switch outcome.result {
        case .cancelled:
            print("cancelled job \(id) on queue \(outcome.queue ?? "?")")
        case .running:
            printError("job \(id) is running on queue \(outcome.queue ?? "?"); running jobs are not interrupted")
            throw ExitCode(3)
        case .notFound:
            let dead = outcome.dead ? " (it is dead on queue \(outcome.queue ?? "?"); see `hoopoe dead show \(id)`)" : ""
            printError("no waiting job \(id) in \(queueOption.describe(outcome.searched))\(dead)")
            throw ExitCode(1)
        }
    }
}
