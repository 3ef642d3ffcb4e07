import ArgumentParser
import HoopoeCore
import HoopoeJSON

/// `hoopoe job show ID`: where a job is and what it carries.
struct JobShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a job's state (ready, running, scheduled or dead) and its envelope.",
        discussion: """
            States: ready (waiting for a worker), running (held by the named worker consumer), scheduled (a delayed \
            job or a retry, with its due time), dead. A finished job is gone and reads as not found.
            A type's secret payload fields (e.g. sendinblue.register's password) are never shown and phone numbers are \
            masked, as everywhere Hoopoe prints a payload.
            Exit 0 when found, 1 when not. --json prints {"queue", "state", "consumer"?, "scheduled_at"?, "envelope"}.
            """
    )

    @OptionGroup var target: JobTarget

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let id = target.id
        let ((found, text), searched) = try await target.search { jobs, queues in
            (try await JobLookup.find(id: id, in: queues, jobs: jobs), EnvelopeText(redaction: JobCatalog.redaction(jobs: jobs)))
        }
        guard let (queue, job) = found else { throw target.notFound("job", searched: searched, note: " (finished jobs are not kept)") }
        if json {
            var object: [String: JSONValue] = ["queue": .string(queue), "envelope": text.json(job.envelope)]
            switch job.state {
            case .ready: object["state"] = "ready"
            case .running(let consumer):
                object["state"] = "running"
                object["consumer"] = .string(consumer)
            case .scheduled(let at):
                object["state"] = "scheduled"
                object["scheduled_at"] = .double(at)
            case .dead: object["state"] = "dead"
            }
            printJSON(.object(object))
            return
        }
        let state: String =
            switch job.state {
            case .ready: "ready"
            case .running(let consumer): "running (worker \(consumer))"
            case .scheduled(let at): "scheduled (at \(TimeText.isoWithRelative(at)))"
            case .dead: "dead"
            }
        print("state:       \(state)")
        print(text.lines(job.envelope).joined(separator: "\n"))
    }
}
