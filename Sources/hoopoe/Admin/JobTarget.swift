import ArgumentParser
import HoopoeCore

/// What every command on one job takes — the global options, `--queue` and the job's id — and how it searches:
/// the queue given, else every known queue.
struct JobTarget: ParsableArguments {
    @OptionGroup var options: GlobalOptions
    @OptionGroup var queueOption: QueueOption

    @Argument(help: "The job id.")
    var id: String

    /// Runs `body` with a ``JobQueue`` and the queues to search; returns its answer and the queues searched.
    func search<T>(_ body: (JobQueue, [String]) async throws -> T) async throws -> (found: T, searched: [String]) {
        try await options.withJobQueue { jobs in
            let queues = try await queueOption.queues(jobs)
            return (try await body(jobs, queues), queues)
        }
    }

    /// Prints "no `what` ID in `the queues searched``note`" and returns exit code 1, for the caller to throw.
    func notFound(_ what: String, searched: [String], note: String = "") -> ExitCode {
        printError("no \(what) \(id) in \(queueOption.describe(searched))\(note)")
        return ExitCode(1)
    }
}
