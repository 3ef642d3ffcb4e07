import ArgumentParser
import HoopoeCore

/// `hoopoe dead retry ID`: gives one dead job another run.
struct DeadRetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put one dead job back on its queue, attempts reset to 0.",
        discussion: "It runs as soon as a worker is free. Exit 0 when moved, 1 when no dead job has this id or it cannot run."
    )

    @OptionGroup var target: JobTarget

    func run() async throws {
        let id = target.id
        let (retried, searched) = try await target.search { jobs, queues -> String? in
            guard let found = try await DeadJobLookup.find(id: id, in: queues, jobs: jobs) else { return nil }
            do {
                return try await jobs.retryDead(id: id, queue: found.queue) ? found.queue : nil
            } catch let error as EnqueueError {
                printError(error.message)
                throw ExitCode(1)
            }
        }
        guard let queue = retried else { throw target.notFound("dead job", searched: searched) }
        print("retried \(id): back on queue \(queue)")
    }
}
