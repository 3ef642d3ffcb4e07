import ArgumentParser
import HoopoeCore
import HoopoeJSON

/// `hoopoe dead list`: the newest dead jobs, one line each.
struct DeadListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List dead jobs, newest first.",
        discussion: """
            Columns: ID, QUEUE, TYPE, ATTEMPTS, DIED, REASON. QUEUE is the queue whose dead set holds the job (what \
            --queue takes), whatever queue its envelope names: one naming another (a raw XADD) says so in its reason. \
            TYPE and REASON are cut at 80 characters, ID at 128 (`hoopoe dead show ID` prints them whole). --json \
            prints {"jobs": [<envelope with dead_reason, last_error, died_at, attempt>...]}, each "queue" the one \
            holding it.
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
                    // The queue whose dead set holds it, not the one its envelope names: an entry XADDed to `default`'s
                    // stream naming `../../etc/passwd` was listed under that name, which `--queue` refuses, and a
                    // 300-character one widened the QUEUE column of every row. The worker's reason quotes a name it
                    // refused.
                    envelope.queue = queue
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
                Self.cell(job.id, EnvelopeRules.maxIDLength), Self.cell(job.queue), Self.cell(PersonalDataMask.mask(job.type)), "\(job.attempt)",
                job.diedAt.map(TimeText.ago) ?? "?", Self.cell(reason))
        }
        print(table.text)
    }

    /// `text` on one line (``PrintableText``), cut to `width` characters with `…` at the end: a column is as wide as
    /// its widest cell, so one job's 300-character type (or id) padded every row. Cut after the escapes, which can make
    /// a cell seven times longer. An id is cut only beyond the longest a valid one has (a job of a longer one is read
    /// by `dead show` anyway).
    static func cell(_ text: String, _ width: Int = 80) -> String {
        let line = PrintableText.oneLine(text)
        return line.count > width ? String(line.prefix(width - 1)) + "…" : line
    }
}
