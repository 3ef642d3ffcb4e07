import ArgumentParser
import HoopoeCore
import HoopoeJSON

/// `hoopoe dead list`: the newest dead jobs, one line each.
struct DeadListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List dead jobs, newest first.",
        discussion: """
            Columns: ID, QUEUE, TYPE, ATTEMPTS, DIED, REASON (cut at 80 characters; `hoopoe dead show ID` prints \
            it whole). --json prints {"jobs": [<envelope with dead_reason, last_error, died_at, attempt>...]}.
            """
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queueOption: QueueOption

    @Option(help: "How many jobs to show at most.")
    var limit: Int = 50

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let (dead, text) = try await options.withJobQueue { jobs in
            var all: [JobEnvelope] = []
            for queue in try await queueOption.queues(jobs) {
                for var envelope in try await jobs.deadJobs(queue: queue, limit: limit) {
                    if envelope.queue.isEmpty { envelope.queue = queue }
                    all.append(envelope)
                }
            }
            return (Array(all.sorted { ($0.diedAt ?? 0) > ($1.diedAt ?? 0) }.prefix(limit)), EnvelopeText(redaction: JobCatalog.redaction(jobs: jobs)))
        }
        if json {
            printJSON(.object(["jobs": .array(dead.map(text.json))]))
            return
        }
        if dead.isEmpty {
            print("No dead jobs.")
            return
        }
        var table = TextTable("ID", "QUEUE", "TYPE", "ATTEMPTS", "DIED", "REASON")
        for job in dead {
            let reason = PersonalDataMask.mask(job.deadReason ?? job.lastError ?? "")
            table.add(
                job.id, job.queue, PersonalDataMask.mask(job.type), "\(job.attempt)", job.diedAt.map(TimeText.ago) ?? "?",
                reason.count > 80 ? String(reason.prefix(79)) + "…" : reason)
        }
        print(table.text)
    }
}
