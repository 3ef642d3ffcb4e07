import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Hummingbird

extension Dashboard {
    /// `/job?id=ID[&queue=Q]`: where a job is and its envelope, redacted as `hoopoe job show` redacts it. Without a
    /// queue every known queue is searched (a scheduled, dead or finished job is one look-up; a ready or running one a
    /// bounded read of the stream, ``StreamSearch/bounded``, whose bound the page states when it finds nothing).
    func jobPage(_ query: FormFields) async throws -> Page {
        guard let id = query["id"]?.trimmingCharacters(in: .whitespaces), !id.isEmpty else {
            return Page(title: "Find a job", path: "/job", readOnly: configuration.readOnly, body: "<p>Give a job id in the search box.</p>")
        }
        let queues: [String]
        if let queue = query["queue"] { queues = [queue] } else { queues = try await queueNames() }
        // Every queue's share of one lookup's bytes: per queue, ten queues of large envelopes read ten times as much.
        let search = StreamSearch.bounded.shared(among: queues.count)
        // A queue Redis refuses to read (its stream key of another type) is named, and the others looked in (QueueReads).
        var unreadable: [UnreadableQueue] = []
        for queue in queues {
            let reads = try await QueueReads.reading([queue]) { try await jobs.find(id: id, queue: $0, finished: true, stream: search) }
            unreadable += reads.unreadable
            guard let found = reads.values.first?.value else { continue }
            let events = try await jobEvents(found.envelope)
            return Page(title: "Job \(id)", path: "/job", readOnly: configuration.readOnly, body: jobBody(found, queue: queue, events: events))
        }
        // A command to paste only for an id a job can have (letters, digits, `._:-`: nothing a shell reads): a link's
        // `id=x $(curl …|sh)` was printed inside the suggested command, escaped for HTML but not for a shell.
        let deeper: HTML = EnvelopeRules.idProblem(id) == nil
            ? "one whose id its enqueuer chose, deeper in a larger backlog, is found by <code>hoopoe job show --whole-stream \(id)</code>."
            : "no job can have this id (\(EnvelopeRules.idProblem(id) ?? ""))."
        let searched = queues.count == 1 ? "queue \(queues[0])" : "any of the \(queues.count) known queues"
        let notFound: HTML =
            unreadable.count == queues.count && !queues.isEmpty
            ? "<p>Job <code>\(id)</code> could not be looked for:</p>" : "<p>No job <code>\(id)</code> in \(searched).</p>"
        let body: HTML = """
            \(notFound)\(Self.unreadableNotes(unreadable))
            <p class="muted">A ready or running job was looked for in \(search.scope); \(deeper)</p>
            <p class="muted">Finished jobs are kept in each queue's job history for HOOPOE_HISTORY_MAX_AGE (default 24 h), at most HOOPOE_HISTORY_MAX_JOBS (default 10,000) a queue; this one is not, or never was, in it. <a href="/search">Search</a> recent jobs by type or payload field.</p>
            """
        return Page(title: "Job not found", path: "/job", readOnly: configuration.readOnly, body: body)
    }

    /// POST `/job/cancel` (queue, id): cancels a job that has not started, as `hoopoe job cancel` does: ready,
    /// scheduled, or fetched by a worker, which is asked and answers within about a second (decision 0089). A running
    /// job is not interrupted. Back to the job's page, which then shows it cancelled.
    func jobCancel(_ form: FormFields) async throws -> Response {
        guard let queue = form["queue"], let id = form["id"] else { return Page.plain(.badRequest, "queue and id are required\n") }
        let back = "/job" + QueryString.make([("id", id), ("queue", queue)])
        let notice: String
        switch try await jobs.cancel(id: id, queue: queue, redaction: configuration.redaction) {
        case .cancelled: notice = "Cancelled job \(id)."
        case .running: notice = "Job \(id) is running on a worker; it is not interrupted."
        case .held: notice = "Job \(id) is held by a worker that did not answer within 2 s (stopping, gone, or of an older release); it is not cancelled."
        case .notFound: notice = "Job \(id) is no longer waiting in \(queue): nothing cancelled."
        }
        return Page.after(back, notice: notice)
    }

    private func jobBody(_ found: FoundJob, queue: String, events: HTML) -> HTML {
        let envelope = shown(found.envelope)
        let state: HTML
        var actions: [HTML] = []
        switch found.state {
        case .ready:
            state = "ready (waiting for a worker)"
            actions.append(button("Cancel", action: "/job/cancel", fields: [("queue", queue), ("id", envelope.id)], danger: true))
        case .running(let consumer):
            state = "held by worker <code>\(consumer)</code> (running, or fetched to run next)"
            actions.append(button("Cancel if not started", action: "/job/cancel", fields: [("queue", queue), ("id", envelope.id)], danger: true))
        case .scheduled(let at):
            state = "scheduled, due \(Clock.relative(at))"
            actions.append(button("Run now", action: "/scheduled/run-now", fields: [("queue", queue), ("id", envelope.id)]))
            actions.append(button("Delete", action: "/scheduled/delete", fields: [("queue", queue), ("id", envelope.id)], danger: true))
        case .dead:
            state = "dead"
            // No Retry for a copy that can never run again (its payload cut or withheld, or not an envelope): said instead.
            actions.append(retryButton(found.envelope, id: envelope.id, fields: [("queue", queue), ("id", envelope.id), ("do", "retry")]))
            actions.append(button("Delete", action: "/dead/action", fields: [("queue", queue), ("id", envelope.id), ("do", "delete")], danger: true))
        case .finished(let record):
            state = "finished: <strong class=\"outcome \(record.outcome.rawValue)\">\(record.outcome.rawValue)</strong>"
        }
        var fields: [(String, HTML)] = [
            ("state", state), ("id", "<code>\(envelope.id)</code>"), ("type", "\(envelope.type)"), ("queue", "\(queue)"),
            ("attempts", "\(envelope.attempt)\(envelope.maxAttempts.map { " of \($0)" } ?? "")"),
        ]
        if case .finished(let record) = found.state { fields += finishedFields(record, queue: queue) }
        if envelope.enqueuedAt > 0 { fields.append(("enqueued", "\(Clock.relative(envelope.enqueuedAt))")) }
        if let parent = envelope.enqueuedBy {  // any queue: the job page searches them all without one
            fields.append(("enqueued by", "<a class=\"enqueued-by\" href=\"/job\(QueryString.make([("id", parent)]))\"><code>\(parent)</code></a>"))
        }
        if let runAt = envelope.runAt { fields.append(("run at", "\(Clock.relative(runAt))")) }
        if let diedAt = envelope.diedAt { fields.append(("died", "\(Clock.relative(diedAt))")) }
        if let reason = envelope.deadReason { fields.append(("dead reason", "\(reason)")) }
        if let error = envelope.lastError, error != envelope.deadReason { fields.append(("last error", "\(error)")) }
        if let unique = envelope.uniqueKey { fields.append(("unique key", "\(unique)")) }
        if let timeout = envelope.timeout { fields.append(("timeout", "\(String(timeout)) s")) }
        let children = "/search" + QueryString.make([("enqueued_by", envelope.id)])
        fields.append(("jobs it enqueued", "<a class=\"enqueued-jobs\" href=\"\(children)\">search the recent jobs</a>"))
        let list = fields.map { name, value -> HTML in "<dt>\(name)</dt><dd>\(value)</dd>" }
        return """
            <dl class="fields">\(list)</dl>
            <div class="actions">\(actions)</div>
            \(Self.failedAttempts(envelope))
            <h2>Payload</h2><pre class="payload">\(Self.pretty(envelope.payload))</pre>
            <p class="muted">Secret fields of this type are removed and phone numbers masked, as in <code>hoopoe job show</code>.</p>
            \(events)
            """
    }

    /// This job's events (``EventLog/events(of:)``: those it wrote, those naming it, those about its message), with a
    /// line saying which rule found them. Phone numbers masked.
    private func jobEvents(_ envelope: JobEnvelope) async throws -> HTML {
        let events = try await EventLog(redis: jobs.redis, namespace: jobs.namespace).events(of: envelope)
        let rule: HTML =
            EventLog.messageID(of: envelope) == nil
            ? "it wrote (<code>job</code>) or that name it (<code>job_id</code>)"
            : "it wrote (<code>job</code>), that name it (<code>job_id</code>) or its message (<code>message_id</code>)"
        let note: HTML = "<p class=\"muted\">Events \(rule) among the newest \(EventLog.jobEventWindow) of the events stream, newest first.</p>"
        guard !events.isEmpty else { return "<h2>Events</h2><p>None found.</p>\(note)" }
        let rows = events.map { event -> HTML in
            let data = String(decoding: PayloadRedaction.maskingPersonalData(event.data).encoded(), as: UTF8.self)
            return "<tr><td>\(Clock.relative(event.at))</td><td><code>\(event.type)</code></td><td><code class=\"event-data\">\(data)</code></td></tr>"
        }
        return """
            <h2>Events</h2>
            <table class="events"><thead><tr><th>At</th><th>Event</th><th>Data</th></tr></thead><tbody>\(rows)</tbody></table>
            \(note)
            """
    }

    /// What job history recorded of a finished job: when, how long, where, why, and the job a deferral enqueued.
    private func finishedFields(_ record: HistoryRecord, queue: String) -> [(String, HTML)] {
        var fields: [(String, HTML)] = [("finished", "\(Clock.relative(record.finishedAt))")]
        if let duration = record.duration { fields.append(("duration", "\(String(format: "%.3f", duration)) s")) }
        if let worker = record.worker { fields.append(("worker", "<code>\(worker)</code>")) }
        if let error = record.error { fields.append(("error", "\(PersonalDataMask.mask(error))")) }
        if let next = record.deferredTo {
            fields.append(("deferred to", "<a class=\"deferred-to\" href=\"/job\(QueryString.make([("id", next), ("queue", queue)]))\"><code>\(next)</code></a>"))
        }
        return fields
    }

    /// The attempts that failed and were retried, as the envelope keeps them (the newest few; the last error is above).
    private static func failedAttempts(_ envelope: JobEnvelope) -> HTML {
        guard let attempts = envelope.failedAttempts, !attempts.isEmpty else { return .empty }
        let rows = attempts.map { failed -> HTML in
            "<tr><td class=\"num\">\(failed.attempt)</td><td>\(Clock.relative(failed.at))</td><td>\(failed.error)</td></tr>"
        }
        return """
            <h2>Failed attempts</h2>
            <table class="attempts"><thead><tr><th class="num">Attempt</th><th>Failed</th><th>Error</th></tr></thead><tbody>\(rows)</tbody></table>
            <p class="muted">Each retried attempt's error, the newest \(FailedAttempt.maxKept) kept (at most \(FailedAttempt.maxErrorLength) characters each).</p>
            """
    }

    /// The payload as indented JSON, keys sorted (escaped by the caller's interpolation).
    static func pretty(_ value: JSONValue) -> String {
        let bytes = value.encoded()
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        else { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: data, as: UTF8.self)
    }
}
