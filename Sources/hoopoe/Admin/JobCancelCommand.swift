import ArgumentParser
import Foundation
import HoopoeCore

/// `hoopoe job cancel ID`: takes a waiting job off its queue before it runs.
struct JobCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job that has not started: ready, scheduled, or fetched by a worker; running jobs are not interrupted.",
        discussion: """
            A cancelled job is removed, recorded in its queue's job history as `cancelled`, and its unique key released; \
            a job sent with `notify` answers `cancelled`. A job a worker has fetched into its buffer to run next is \
            asked for: the worker answers within about a second, cancelling it if it has not started; after `--wait` \
            seconds without an answer (a worker stopping or gone, or of an older release) nothing is cancelled. \
            Exit 0 cancelled, 1 not found (finished, dead, or never existed; see `hoopoe dead` for dead jobs) or, with \
            REDIS_WAIT_REPLICAS, cancelled on the primary but confirmed by too few replicas (the line says so), 3 running \
            (it is not interrupted) or held by a worker that did not answer.
            """
    )

    @OptionGroup var target: JobTarget

    @Option(name: .customLong("wait"), help: "Seconds to wait for the answer of a worker holding the job (default 2).", transform: DurationText.seconds)
    var wait: Double = 2

    func validate() throws {
        guard wait.isFinite, wait > 0, wait <= 3600 else { throw ValidationError("--wait must be a number of seconds above 0, at most 3600") }
    }

    func run() async throws {
        let id = target.id
        let (outcome, searched) = try await target.search { jobs, queues -> (queue: String?, result: CancelResult, note: String) in
            guard let (queue, job) = try await JobLookup.find(id: id, in: queues, jobs: jobs) else { return (nil, .notFound, "") }
            // Dead or finished: the look searched the stream and the scheduled set already; the cancel would search the
            // whole stream again (every entry of a deep queue) to say what is known.
            switch job.state {
            case .dead: return (queue, .notFound, " (it is dead on queue \(queue); see `hoopoe dead show \(id)`)")
            case .finished(let record): return (queue, .notFound, " (it finished on queue \(queue): \(record.outcome.rawValue); see `hoopoe job show \(id)`)")
            default: break
            }
            return (queue, try await jobs.cancel(id: id, queue: queue, redaction: JobCatalog.redaction(jobs: jobs), holderWait: .milliseconds(Int(wait * 1000))), "")
        }
        switch outcome.result {
        case .cancelled:
            print("cancelled job \(id) on queue \(outcome.queue ?? "?")")
        case .running:
            printError("job \(id) on queue \(outcome.queue ?? "?") is running on a worker; it is not interrupted")
            throw ExitCode(3)
        case .held:
            printError(
                "job \(id) on queue \(outcome.queue ?? "?") is held by a worker that did not answer within \(String(format: "%g", wait)) s (stopping, gone, or of an older release); it is not cancelled"
            )
            throw ExitCode(3)
        case .notFound:
            throw target.notFound("waiting job", searched: searched, note: outcome.note)
        }
    }
}
