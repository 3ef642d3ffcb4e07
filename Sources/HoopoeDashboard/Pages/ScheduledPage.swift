import Foundation
import HoopoeCore
import HTTPTypes
import Hummingbird

extension Dashboard {
    /// `/scheduled?queue=Q&offset=N`: delayed jobs and retries of one queue, soonest first, a page at a time.
    func scheduledPage(_ query: FormFields) async throws -> Page {
        // Only names a queue may have, as the dead page: one written by hand (`q x`, a key-like string) was offered,
        // shown first when it sorted first, and its link led to "No queue can be named".
        let names = try await validQueueNames()
        // A queue whose scheduled set Redis refuses to read (a key of another type) is said in the picker, and on its page.
        let countReads = try await QueueReads.reading(names) { try await jobs.store.scheduledCount(queue: $0) }
        let counts = Dictionary(countReads.values.map { ($0.queue, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let queue = chosenQueue(query, among: names, counts: counts) else {
            return Page(title: "Scheduled & retries", path: "/scheduled", readOnly: configuration.readOnly, body: noQueueBody(query))
        }
        let picker = queuePicker(path: "/scheduled", names: names, current: queue, count: counts, unreadable: countReads.unreadable)
        let offset = query.offset("offset")
        let countRefused = countReads.unreadable.filter { $0.queue == queue }
        let entryReads =
            countRefused.isEmpty
            ? try await QueueReads.reading([queue]) { try await jobs.store.scheduledEntries(queue: $0, offset: offset, limit: configuration.pageSize) }
            : QueueReads()
        guard let entries = entryReads.values.first?.value else {
            let refused = countRefused + entryReads.unreadable
            return Page(title: "Scheduled & retries", path: "/scheduled", readOnly: configuration.readOnly, body: "\(picker)\(Self.unreadableNotes(refused))")
        }
        let rows = entries.map { entry -> HTML in
            let envelope = entry.envelope.map(shown)
            let kind = (envelope?.attempt ?? 0) > 0 ? "retry \(envelope!.attempt)" + (envelope?.maxAttempts.map { " of \($0)" } ?? "") : "delayed"
            return """
                <tr><td><a href="/job\(QueryString.make([("queue", queue), ("id", entry.id)]))">\(entry.id)</a></td><td>\(envelope?.type ?? "(unreadable)")</td>\
                <td>\(kind)</td><td>\(Clock.relative(entry.dueAt))</td><td class="error">\(envelope?.lastError ?? "")</td>\
                <td>\(button("Run now", action: "/scheduled/run-now", fields: [("queue", queue), ("id", entry.id)]))\
                \(button("Delete", action: "/scheduled/delete", fields: [("queue", queue), ("id", entry.id)], danger: true))</td></tr>
                """
        }
        let total = counts[queue] ?? 0
        let table: HTML
        if !rows.isEmpty {
            table = """
                <table class="scheduled"><thead><tr><th>Job</th><th>Type</th><th>Kind</th><th>Due</th><th>Last error</th><th></th></tr></thead>\
                <tbody>\(rows)</tbody></table>
                """
        } else if offset > 0 {
            // Past the end (a "next" link kept while the jobs came due, or an offset typed): "Nothing scheduled" was
            // untrue of a queue holding jobs before this position.
            table = """
                <p class="muted past-end">No jobs past position \(offset): \(queue) holds \(total) scheduled. \
                <a href="/scheduled\(QueryString.make([("queue", queue)]))">First page</a></p>
                """
        } else {
            table = "<p class=\"muted\">Nothing scheduled in \(queue).</p>"
        }
        let body: HTML = """
            \(picker)\(table)\
            \(pager(path: "/scheduled", pairs: [("queue", queue)], offset: offset, limit: configuration.pageSize, shown: entries.count, total: total))
            """
        return Page(title: "Scheduled & retries", path: "/scheduled", readOnly: configuration.readOnly, body: body)
    }

    /// POST `/scheduled/delete` (queue, id): cancels a delayed job or retry (its unique lock released if it holds it).
    func scheduledDelete(_ form: FormFields) async throws -> Response {
        guard let queue = form["queue"], let id = form["id"] else { return Page.plain(.badRequest, "queue and id are required\n") }
        let back = "/scheduled" + QueryString.make([("queue", queue)])
        // Asked of the scheduled set alone: a job promoted since the page was drawn (often, on a page that goes stale
        // fast) made the lookup read the whole stream, seconds on a large backlog, only to answer "not deleted".
        guard try await jobs.scheduledTime(id: id, queue: queue) != nil else {
            return Page.after(back, notice: "Job \(id) is no longer scheduled in \(queue): nothing deleted.")
        }
        let result = try await jobs.cancel(id: id, queue: queue, redaction: configuration.redaction)
        return Page.after(back, notice: result == .cancelled ? "Deleted scheduled job \(id)." : "Job \(id) was not deleted: it is no longer scheduled.")
    }

    /// POST `/scheduled/run-now` (queue, id): a delayed job or retry goes to its queue's stream now, as `hoopoe job
    /// run-now` moves it (its envelope kept: a retry its attempt, a unique job its lock); the next worker with a free
    /// slot runs it.
    func scheduledRunNow(_ form: FormFields) async throws -> Response {
        guard let queue = form["queue"], let id = form["id"] else { return Page.plain(.badRequest, "queue and id are required\n") }
        let back = "/scheduled" + QueryString.make([("queue", queue)])
        let notice: String
        switch try await jobs.runNow(id: id, queue: queue) {
        case .moved: notice = "Job \(id) is ready to run now."
        case .notScheduled: notice = "Job \(id) is no longer scheduled in \(queue): nothing moved."
        case .noEnvelope: notice = "Job \(id) was scheduled without its envelope: its id was removed, nothing runs."
        }
        return Page.after(back, notice: notice)
    }
}
