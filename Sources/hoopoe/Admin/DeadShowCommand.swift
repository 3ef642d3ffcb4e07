import ArgumentParser
import HoopoeCore

/// `hoopoe dead show ID`: one dead job in full.
struct DeadShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one dead job: reason, last error, attempts, time of death and payload.",
        discussion: "Exit 0 when found, 1 when no dead job has this id. --json prints the envelope."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queueOption: QueueOption

    @Argument(help: "The job id.")
    var id: String

    @Flag(help: "Print the envelope as JSON.")
    var json = false

    func run() async throws {
        let (found, searched, text) = try await options.withJobQueue { jobs in
            let queues = try await queueOption.queues(jobs)
            return (try await DeadJobLookup.find(id: id, in: queues, jobs: jobs), queues, EnvelopeText(redaction: JobCatalog.redaction(jobs: jobs)))
        }
        guard let found else {
            printError("no dead job \(id) in \(queueOption.describe(searched))")
            throw ExitCode(1)
        }
        if json {
            printJSON(text.json(found.envelope))
        } else {
            print(text.lines(found.envelope).joined(separator: "\n"))
        }
    }
}
