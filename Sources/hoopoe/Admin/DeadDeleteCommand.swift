import ArgumentParser
import HoopoeCore

/// `hoopoe dead delete ID`: forgets one dead job for good.
struct DeadDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete one dead job for good.",
        discussion: "Exit 0 when deleted, 1 when no dead job has this id."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queueOption: QueueOption

    @Argument(help: "The job id.")
    var id: String

    func run() async throws {
        let outcome: (queue: String?, searched: [String]) = try await options.withJobQueue { jobs in
            let queues = try await queueOption.queues(jobs)
            for queue in queues where try await jobs.deleteDead(id: id, queue: queue) { return (queue, queues) }
            return (nil, queues)
        }
        guard let queue = outcome.queue else {
            printError("no dead job \(id) in \(queueOption.describe(outcome.searched))")
            throw ExitCode(1)
        }
        print("deleted dead job \(id) from queue \(queue)")
    }
}
