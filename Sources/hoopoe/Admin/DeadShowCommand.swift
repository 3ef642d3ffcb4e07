import ArgumentParser
import HoopoeCore

/// `hoopoe dead show ID`: one dead job in full.
struct DeadShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one dead job: reason, last error, attempts, time of death and payload.",
        discussion: "Exit 0 when found, 1 when no dead job has this id. --json prints the envelope."
    )

    @OptionGroup var target: JobTarget

    @Flag(help: "Print the envelope as JSON.")
    var json = false

    func run() async throws {
        let id = target.id
        let ((found, text), searched) = try await target.search { jobs, queues in
            (try await DeadJobLookup.find(id: id, in: queues, jobs: jobs), EnvelopeText(redaction: JobCatalog.redaction(jobs: jobs)))
        }
        guard let found else { throw target.notFound("dead job", searched: searched) }
        // The queue whose dead set holds it (what `--queue` and `dead retry` take), not the one its envelope names (the
        // reason quotes a name the worker refused), as `dead list` shows it.
        var envelope = found.envelope
        envelope.queue = found.queue
        if json {
            printJSON(text.json(envelope))
        } else {
            print(text.lines(envelope).joined(separator: "\n"))
        }
    }
}
