import ArgumentParser
import HoopoeCore

/// `hoopoe dead retry ID`: gives one dead job another run.
struct DeadRetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put one dead job back on its queue, attempts reset to 0.",
        discussion: "It runs as soon as a worker is free. Exit 0 when moved, 1 when no dead job has this id or it cannot run."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queueOption: QueueOption

    @Argument(help: "The job id.")
    var id: String

    func run() async throws {
        let outcome: (queue: String?, searched: [String]) = try await options.withJobQueue { jobs in
            let queues = try await queueOption.queues(jobs)
            guard let found = try await DeadJobLookup.find(id: id, in: queues, jobs: jobs) else { return (nil, queues) }
            do {
                return (try await jobs.retryDead(id: id, queue: found.queue) ? found.queue : nil, queues)
            } catch let error as EnqueueError {
                printError(error.message)
                throw ExitCode(1)
            }
        }
        guard let queue = outcome.queue else {
            printError("no dead job \(id) in \(queueOption.describe(outcome.searched))")
            throw ExitCode(1)
        }
        print("retried \(id): back on queue \(queue)")
    }
}
