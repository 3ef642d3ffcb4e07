import ArgumentParser
import HoopoeCore

/// `hoopoe job cancel ID`: takes a waiting job off its queue before it runs.
struct JobCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job that is ready or scheduled; running jobs are not interrupted.",
        discussion: """
            A cancelled job is removed and its unique key released; a job sent with `notify` answers `cancelled`. \
            Exit 0 cancelled, 1 not found (finished, dead, or never existed; see `hoopoe dead` for dead jobs), 3 held \
            by a worker (running, or fetched into its buffer to run next: a worker fetches up to a few times its \
            concurrency ahead; it will run).
            """
    )

    @OptionGroup var target: JobTarget

    func run() async throws {
        let id = target.id
        let (outcome, searched) = try await target.search { jobs, queues -> (queue: String?, result: CancelResult, dead: Bool) in
            guard let (queue, job) = try await JobLookup.find(id: id, in: queues, jobs: jobs) else { return (nil, .notFound, false) }
            if case .dead = job.state { return (queue, .notFound, true) }
            return (queue, try await jobs.cancel(id: id, queue: queue, redaction: JobCatalog.redaction(jobs: jobs)), false)
        }
        switch outcome.result {
        case .cancelled:
            print("cancelled job \(id) on queue \(outcome.queue ?? "?")")
        case .running:
            printError("job \(id) on queue \(outcome.queue ?? "?") is held by a worker (running, or fetched to run next); it is not interrupted")
            throw ExitCode(3)
        case .notFound:
            let dead = outcome.dead ? " (it is dead on queue \(outcome.queue ?? "?"); see `hoopoe dead show \(id)`)" : ""
            throw target.notFound("waiting job", searched: searched, note: dead)
        }
    }
}
