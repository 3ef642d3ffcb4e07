import Foundation
import ArgumentParser
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Redis

/// `hoopoe job show ID`: where a job is and what it carries.
struct JobShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a job's state (ready, running, scheduled, dead or finished) and its envelope.",
        discussion: """
            States: ready (waiting for a worker), running (held by the named worker consumer), scheduled (a delayed \
            job or a retry, with its due time), dead, finished. A finished job is found while its queue's job history \
            keeps it (HOOPOE_HISTORY_MAX_AGE, default 24 h, and HOOPOE_HISTORY_MAX_JOBS, default 10000 a queue), with \
            its outcome (processed, discarded, deferred, dead, cancelled), when it finished, how long it ran, its \
            attempts, the worker that ran it, its error, and for a deferral the job enqueued in its place.
            A type's secret payload fields (e.g. sendinblue.register's password) are never shown and phone numbers are \
            masked, as everywhere Hoopoe prints a payload.
            A ready or running job is looked for, as the dashboard does, in part of its queue's stream: for an id \
            Hoopoe made (26 characters, time-ordered) the entries added around the time the id carries, and for any \
            id the oldest \(StreamSearch.defaultWindow) and newest \(StreamSearch.defaultWindow) entries, at most \(StreamSearch.placeByteBudget >> 20) MiB of each \
            (shared among the queues when no --queue is given), so the answer is quick on any backlog. A job with an id its \
            enqueuer chose, or one written to the stream later than its id says (a delayed job that fell due, a retry, \
            one retried from the dead set or handed back by a stopping worker), deep in a larger backlog, is found with \
            --whole-stream (a scan: seconds on 100k jobs).
            Exit 0 when found, 1 when not. --json prints {"queue", "state", "consumer"?, "scheduled_at"?, "envelope"}; \
            a finished job adds {"outcome", "finished_at", "duration"?, "attempt", "worker"?, "error"?, "deferred_to"?}. \
            A job that was retried lists its failed attempts (the newest \(FailedAttempt.maxKept): attempt, time, error), \
            in JSON as the envelope's "failed_attempts".
            Then its events, newest first, among the newest \(EventLog.jobEventWindow) of the events stream (as the \
            dashboard's job page lists them): those it wrote (their job field), those naming it (job_id: job.dead, \
            reminder.queued) and, for an SMS or email, those about its message (message_id: sms.status); phone numbers \
            masked. In JSON: "events": [{"id", "type", "at", "data", "job"?}]; "events_error" when the stream could not be read.
            """
    )

    @OptionGroup var target: JobTarget

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Read the whole stream for a ready or running job (slow on a large backlog; by default a bounded part).")
    var wholeStream = false

    func run() async throws {
        let id = target.id
        let stream: StreamSearch = wholeStream ? .whole : .bounded
        let ((found, text, events, searchScope), searched) = try await target.search { jobs, queues in
            // Without --queue every queue is looked in: they share one lookup's bytes (StreamSearch.shared(among:)).
            let search = stream.shared(among: queues.count)
            let found = try await JobLookup.find(id: id, in: queues, jobs: jobs, stream: search)
            var events: Result<[EventLog.Recorded], RedisError> = .success([])
            if let envelope = found?.1.envelope {
                do {
                    events = .success(try await EventLog(redis: jobs.redis, namespace: jobs.namespace).events(of: envelope))
                } catch let error as RedisError {
                    events = .failure(error)  // the job is still shown: its events are the extra
                }
            }
            return (found, EnvelopeText(redaction: JobCatalog.redaction(jobs: jobs)), events, search.scope)
        }
        guard let (queue, job) = found else {
            let scope = wholeStream ? "" : "; a ready or running job was looked for in \(searchScope): --whole-stream reads it all"
            throw target.notFound("job", searched: searched, note: " (finished jobs are kept for HOOPOE_HISTORY_MAX_AGE, default 24 h)\(scope)")
        }
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
            case .finished(let record):
                object["state"] = "finished"
                object["outcome"] = .string(record.outcome.rawValue)
                object["finished_at"] = .double(record.finishedAt)
                object["attempt"] = .integer(Int64(record.attempt))
                if let duration = record.duration { object["duration"] = .double(duration) }
                if let worker = record.worker { object["worker"] = .string(worker) }
                if let error = record.error { object["error"] = .string(PersonalDataMask.mask(error)) }
                if let next = record.deferredTo { object["deferred_to"] = .string(next) }
            }
            switch events {
            case .success(let events):
                object["events"] = .array(events.map { event -> JSONValue in
                    var fields: [String: JSONValue] = [
                        "id": .string(event.id), "type": .string(event.type), "at": .double(event.at),
                        "data": PayloadRedaction.maskingPersonalData(event.data),
                    ]
                    if let job = event.job { fields["job"] = .string(job) }
                    return .object(fields)
                })
            case .failure(let error): object["events_error"] = .string("\(error)")
            }
            printJSON(.object(object))
            return
        }
        switch job.state {
        case .ready: print("state:       ready")
        case .running(let consumer): print("state:       running (held by worker \(PrintableText.oneLine(consumer)): running, or fetched to run next)")
        case .scheduled(let at): print("state:       scheduled (at \(TimeText.isoWithRelative(at)))")
        case .dead: print("state:       dead")
        case .finished(let record):
            print("state:       finished: \(record.outcome.rawValue)")
            print("finished:    \(TimeText.isoWithRelative(record.finishedAt))")
            if let duration = record.duration { print("duration:    \(String(format: "%.3f", duration)) s") }
            if let worker = record.worker { print("worker:      \(PrintableText.oneLine(worker))") }
            if let error = record.error { print("error:       \(PrintableText.oneLine(PersonalDataMask.mask(error)))") }
            if let next = record.deferredTo { print("deferred to: \(next) (hoopoe job show \(next))") }
        }
        print(text.lines(job.envelope).joined(separator: "\n"))
        if let attempts = text.redaction.redacted(job.envelope).failedAttempts, !attempts.isEmpty {
            print("failed attempts (retried; the newest \(FailedAttempt.maxKept) kept):")
            for failed in attempts { print("  \(failed.attempt): \(TimeText.isoWithRelative(failed.at)): \(PrintableText.oneLine(failed.error))") }
        }
        printEvents(events)
    }

    /// The job's events, one a line, newest first; or that none was found, or why they could not be read.
    private func printEvents(_ events: Result<[EventLog.Recorded], RedisError>) {
        let scope = "among the newest \(EventLog.jobEventWindow) of the events stream"
        switch events {
        case .failure(let error): print("events:      not read (\(PrintableText.oneLine("\(error)")))")
        case .success(let events) where events.isEmpty: print("events:      none \(scope)")
        case .success(let events):
            print("events (newest first, \(scope)):")
            for event in events {
                let data = String(decoding: PayloadRedaction.maskingPersonalData(event.data).encoded(), as: UTF8.self)
                print("  \(TimeText.isoWithRelative(event.at)): \(PrintableText.oneLine(event.type)) \(PrintableText.oneLine(data))")
            }
        }
    }
}
