import Foundation
import HoopoeCore
import HTTPTypes
import Hummingbird

/// The dead page's filter: type (exact) and error text (case-insensitive substring of the shown reason), each cut
/// to ``maxLength`` characters.
struct DeadFilter: Sendable {
    /// The longest type or error text a filter keeps: a filter is a search box, not a place to paste a payload.
    static let maxLength = 200

    var type: String?
    var error: String?

    init(_ fields: FormFields) {
        type = fields["type"].map { String($0.prefix(Self.maxLength)) }
        error = fields["error"].map { String($0.prefix(Self.maxLength)) }
    }

    /// `type=…, error text "…"`, or nil for no filter.
    var summary: String? {
        let parts = [type.map { "type \($0)" }, error.map { "error text \"\($0)\"" }].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    var isEmpty: Bool { type == nil && error == nil }

    /// `envelope` is shown already redacted, so the error text is matched as an operator sees it.
    func matches(_ envelope: JobEnvelope?) -> Bool {
        if isEmpty { return true }
        guard let envelope else { return false }
        if let type, envelope.type != type { return false }
        if let error, !((envelope.deadReason ?? envelope.lastError ?? "").localizedCaseInsensitiveContains(error)) { return false }
        return true
    }
}

extension Dashboard {
    /// How many dead entries one page may look at while filtering: a filter that matches little still answers fast
    /// on a large dead set, and the page offers to go on from where it stopped.
    static let deadScanBudget = 2000
    /// And how many bytes of their stored text: a plain `XADD` may write envelopes of 512 KiB, and 2,000 of them would
    /// pull a gigabyte through the dashboard (JobStore.boundedTexts).
    static let deadScanBytes = 16 << 20

    /// `/dead?queue=Q&type=T&error=E&offset=N`: the dead set of one queue, newest first, filtered; retry or delete
    /// one, the selected, or every match.
    func deadPage(_ query: FormFields) async throws -> Page {
        // A queue listed from keys written under a name no queue may have: its link would lead to "No queue can be named".
        let names = try await validQueueNames()
        // A queue whose dead set Redis refuses to read (a key of another type) is said in the picker, and on its page.
        let countReads = try await QueueReads.reading(names) { try await jobs.store.deadCount(queue: $0) }
        let counts = Dictionary(countReads.values.map { ($0.queue, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let queue = chosenQueue(query, among: names, counts: counts) else {
            return Page(title: "Dead", path: "/dead", readOnly: configuration.readOnly, body: noQueueBody(query))
        }
        let refused = countReads.unreadable.filter { $0.queue == queue }
        guard refused.isEmpty else {
            let body: HTML = "\(queuePicker(path: "/dead", names: names, current: queue, count: counts, unreadable: countReads.unreadable))\(Self.unreadableNotes(refused))"
            return Page(title: "Dead", path: "/dead", readOnly: configuration.readOnly, body: body)
        }
        let filter = DeadFilter(query)
        let start = query.offset("offset")
        let limit = configuration.pageSize
        var matches: [DeadEntry] = []
        var position = start
        var scanned = 0
        var bytes = 0
        while matches.count < limit, scanned < Self.deadScanBudget, bytes < Self.deadScanBytes {
            let chunk = try await jobs.store.deadEntries(
                queue: queue, offset: position, limit: filter.isEmpty ? limit - matches.count : 200, byteBudget: Self.deadScanBytes - bytes)
            if chunk.isEmpty { break }
            for entry in chunk {
                position += 1
                scanned += 1
                bytes += entry.size
                if filter.matches(entry.envelope.map(shown)) {
                    matches.append(entry)
                    if matches.count == limit { break }
                }
            }
        }
        let stopped = scanned >= Self.deadScanBudget || bytes >= Self.deadScanBytes
        let total = counts[queue] ?? 0
        let filterPairs: [(String, String?)] = [("queue", queue), ("type", filter.type), ("error", filter.error)]
        // Sent with every action of this page, so that its answer comes back to this page: filtered, at this position.
        let here = Self.pageFields(queue, filter, offset: start)
        let rows = matches.map { entry -> HTML in
            let envelope = entry.envelope.map(shown)
            let select: HTML = configuration.readOnly ? .empty : "<td><input type=\"checkbox\" name=\"id\" value=\"\(entry.id)\" form=\"selected\" aria-label=\"select \(entry.id)\"></td>"
            return """
                <tr>\(select)<td><a href="/job\(QueryString.make([("queue", queue), ("id", entry.id)]))">\(entry.id)</a></td>\
                <td>\(envelope?.type ?? "(unreadable)")</td><td>\(Clock.relative(entry.diedAt))</td><td class="num">\(envelope?.attempt ?? 0)</td>\
                <td class="error">\(envelope?.deadReason ?? envelope?.lastError ?? "")</td>\
                <td class="actions">\(retryButton(entry.envelope, id: entry.id, fields: here + [("id", entry.id), ("do", "retry")]))\
                \(button("Delete", action: "/dead/action", fields: here + [("id", entry.id), ("do", "delete")], danger: true))</td></tr>
                """
        }
        let selectAll: HTML = configuration.readOnly ? .empty : "<th><input type=\"checkbox\" data-select-all aria-label=\"select all\"></th>"
        let table: HTML
        if !rows.isEmpty {
            table = """
                <table class="dead"><thead><tr>\(selectAll)<th>Job</th><th>Type</th><th>Died</th><th class="num">Attempts</th><th>Reason</th><th></th></tr></thead>\
                <tbody>\(rows)</tbody></table>
                """
        } else if start > 0 {
            // Past the end, or past the last match (an "older" link kept while jobs were retried or deleted, or an offset
            // typed): "No dead job in default" was untrue of a queue holding dead jobs before this position.
            table = """
                <p class="muted past-end">No jobs\(filter.isEmpty ? "" : " matching the filter") past position \(start)\
                \(stopped ? " among the \(scanned) looked at" : ""): \(queue) holds \(total) dead. \
                <a href="/dead\(QueryString.make(filterPairs))">First page</a></p>
                """
        } else {
            table = "<p class=\"muted\">No dead job\(filter.isEmpty ? "" : " matches the filter") in \(queue)\(stopped ? " among the \(scanned) looked at" : "").</p>"
        }
        let more: HTML =
            position < total && (matches.count == limit || stopped)
            ? "<a href=\"/dead\(QueryString.make(filterPairs + [("offset", String(position))]))\">older »</a>" : .empty
        let newer: HTML = start > 0 ? "<a href=\"/dead\(QueryString.make(filterPairs))\">« newest</a>" : .empty
        let bulk: HTML =
            configuration.readOnly
            ? .empty
            : """
            <div class="actions"><form id="selected" method="post" action="/dead/action">\(csrf.field)\(Self.hidden(here))\
            <button name="do" value="retry">Retry selected</button> <button name="do" value="delete" class="danger">Delete selected</button></form>\
            \(button(filter.isEmpty ? "Retry all in \(queue)" : "Retry all matching", action: "/dead/action", fields: bulkFields(queue, filter, "retry-all"), confirm: "Retry every matching dead job of \(queue)?"))\
            \(button(filter.isEmpty ? "Delete all in \(queue)" : "Delete all matching", action: "/dead/action", fields: bulkFields(queue, filter, "delete-all"), danger: true, confirm: "Delete every matching dead job of \(queue)? This cannot be undone."))</div>
            """
        let runningNote: HTML = await bulkRuns.running(queue: queue).map { run in
            let progress = "/dead/progress" + QueryString.make([("run", String(run.id))])
            return """
                <p class="notice bulk-running">\(run.verb == .retry ? "A retry" : "A delete") of \(queue)'s dead jobs is running: \
                <a href="\(progress)">\(run.scanned) of \(run.total) looked at</a>.</p>
                """
        } ?? .empty
        let body: HTML = """
            \(queuePicker(path: "/dead", names: names, current: queue, count: counts, unreadable: countReads.unreadable))
            <form class="filters" method="get" action="/dead"><input type="hidden" name="queue" value="\(queue)">\
            <label>Type<input name="type" value="\(filter.type ?? "")" placeholder="sms.send" maxlength="\(DeadFilter.maxLength)"></label>\
            <label>Error text<input name="error" value="\(filter.error ?? "")" placeholder="timeout" maxlength="\(DeadFilter.maxLength)"></label><button>Filter</button>\
            \(filter.isEmpty ? HTML.empty : "<a href=\"/dead\(QueryString.make([("queue", queue)]))\">clear</a>")</form>
            <p class="muted filter-bounds">Type matches exactly; error text is found anywhere in the reason, ignoring case (each up to \
            \(DeadFilter.maxLength) characters). A page looks at up to \(Self.deadScanBudget) dead jobs (\(Self.deadScanBytes >> 20) MiB of them) for matches; "older »" goes on from \
            there. Retry all / Delete all go through the whole dead set of \(queue) in the background, \(DeadBulkRuns.batchSize) jobs at a \
            time, with a progress page.</p>
            \(runningNote)\(bulk)\(table)<div class="pager">\(newer)<span class="muted">\(matches.count) shown · \(total) dead in \(queue)</span>\(more)</div>
            """
        return Page(title: "Dead", path: "/dead", readOnly: configuration.readOnly, body: body)
    }

    /// A dead job's Retry button; none for a copy that can never run again (``JobQueue/deadRetryRefusal(_:id:)``: a
    /// payload cut to its start, keys withheld, a malformed envelope kept as text, no envelope at all): a muted note
    /// says so, its reason on hover. A click on it answered "1 skipped (gone, unable to run again, or …)".
    func retryButton(_ envelope: JobEnvelope?, id: String, fields: [(String, String)]) -> HTML {
        guard !configuration.readOnly else { return .empty }
        let refusal = envelope.map { JobQueue.deadRetryRefusal($0, id: id) } ?? "dead job \(id) is not a readable envelope and cannot be retried"
        guard let refusal else { return button("Retry", action: "/dead/action", fields: fields) }
        return "<span class=\"muted no-retry\" title=\"\(refusal)\">cannot be retried</span>"
    }

    /// The fields that bring an action's answer back to the page it was clicked on: the queue, the filter, and the
    /// position when past the first page (the forms sent the queue alone, and the answer was its unfiltered first page).
    static func pageFields(_ queue: String, _ filter: DeadFilter, offset: Int) -> [(String, String)] {
        var fields = [("queue", queue)]
        if let type = filter.type { fields.append(("type", type)) }
        if let error = filter.error { fields.append(("error", error)) }
        if offset > 0 { fields.append(("offset", String(offset))) }
        return fields
    }

    /// Hidden inputs for `fields`.
    private static func hidden(_ fields: [(String, String)]) -> HTML {
        HTML.joined(fields.map { name, value -> HTML in "<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">" })
    }

    private func bulkFields(_ queue: String, _ filter: DeadFilter, _ verb: String) -> [(String, String)] {
        var fields = [("queue", queue), ("do", verb)]
        if let type = filter.type { fields.append(("type", type)) }
        if let error = filter.error { fields.append(("error", error)) }
        return fields
    }

    /// POST `/dead/action`: `do` = retry | delete (the `id` fields, at once) or retry-all | delete-all (every dead
    /// job of `queue` matching `type` / `error`: started in the background, answered with its progress page). Retry
    /// puts a job back on its queue with its attempts reset (the same checks as `hoopoe dead retry`); a job that
    /// cannot run again is left dead and counted as skipped, and one job alone is told why. The answer goes back to
    /// the page the action came from (`type`, `error`, `offset`).
    func deadAction(_ form: FormFields) async throws -> Response {
        guard let queue = form["queue"], let verb = form["do"] else { return Page.plain(.badRequest, "queue and do are required\n") }
        let filter = DeadFilter(form)
        let back = "/dead" + QueryString.make(Self.pageFields(queue, filter, offset: form.offset("offset")).map { ($0.0, Optional($0.1)) })
        let bulk: DeadBulkRun.Verb
        switch verb {
        case "retry", "delete":
            let ids = form.all("id")
            guard !ids.isEmpty else { return Page.after(back, notice: "No dead job selected: tick the jobs to \(verb) first.") }
            if ids.count == 1 { return Page.after(back, notice: try await deadAction(verb, id: ids[0], queue: queue)) }
            let notice: String
            if verb == "retry" {
                let result = try await jobs.retryDead(ids: ids, queue: queue)
                // How many were skipped and why, per reason (DeadRetrySkips): one look at those left, only when some were.
                let skips = await DeadRetrySkips.of(ids, skipped: result.skipped, queue: queue, jobs: jobs)
                notice = "Retried \(Self.count(result.done)) of \(queue)" + (skips.said.map { "; \($0)." } ?? ".")
            } else {
                let result = try await jobs.deleteDead(ids: ids, queue: queue)
                notice = "Deleted \(Self.count(result.done)) of \(queue)" + (result.skipped > 0 ? "; \(result.skipped) already gone." : ".")
            }
            return Page.after(back, notice: notice)
        case "retry-all": bulk = .retry
        case "delete-all": bulk = .delete
        default: return Page.plain(.badRequest, "unknown action\n")
        }
        guard try await queueNames().contains(queue) else { return Page.after(back, notice: "No queue \(queue) in Redis.") }
        let (run, started) = try await bulkRuns.start(queue: queue, verb: bulk, filter: filter, jobs: jobs, shown: { self.shown($0) })
        let location = "/dead/progress" + QueryString.make([("run", String(run.id))])
        return started ? Page.see(location) : Page.after(location, notice: "A bulk action is already running on \(queue): this is its progress.")
    }

    /// One dead job retried or deleted: the single-id calls, so that a retry refused says why, as `hoopoe dead retry`
    /// does (the batch call counted it as "skipped", gone or refused alike).
    private func deadAction(_ verb: String, id: String, queue: String) async throws -> String {
        guard verb == "retry" else {
            return try await jobs.deleteDead(id: id, queue: queue)
                ? "Deleted 1 dead job of \(queue): \(id)." : "Deleted 0 dead jobs of \(queue): \(id) was already gone."
        }
        do {
            return try await jobs.retryDead(id: id, queue: queue)
                ? "Retried 1 dead job of \(queue): \(id) is ready to run."
                : "Retried 0 dead jobs of \(queue): \(id) is no longer dead (retried or deleted meanwhile)."
        } catch let refused as EnqueueError {
            return "Retried 0 dead jobs of \(queue): \(refused.message)."
        }
    }

    /// A bulk run's skipped jobs: a delete's were gone meanwhile; a retry's are counted per reason (``DeadRetrySkips``).
    static func skippedText(_ run: DeadBulkRun) -> String {
        guard run.skipped > 0 else { return "0" }
        guard run.verb == .retry, let said = run.skips.said else { return "\(run.skipped) (gone meanwhile)" }
        return said
    }

    /// "1 dead job", "2 dead jobs".
    private static func count(_ jobs: Int) -> String { "\(jobs) dead job\(jobs == 1 ? "" : "s")" }

    /// `/dead/progress?run=N`: how far a retry-all or delete-all has got; it reloads itself each second while it runs.
    func deadProgressPage(_ query: FormFields) async throws -> Page {
        guard let id = query["run"].flatMap(Int.init), let run = await bulkRuns.progress(of: id) else {
            return Page(
                title: "Bulk action", path: "/dead", readOnly: configuration.readOnly,
                body: "<p class=\"muted\">No such run in this dashboard process (runs are kept until it restarts, the last \(DeadBulkRuns.kept) finished ones).</p><p><a href=\"/dead\">Dead jobs</a></p>")
        }
        let what: HTML = "\(run.verb == .retry ? "Retry" : "Delete") all dead jobs of \(run.queue)\(run.filter.summary.map { " matching \($0)" } ?? "")"
        let state = BulkState.html(startedAt: run.startedAt, finishedAt: run.finishedAt, failure: run.failure)
        let back = "/dead" + QueryString.make([("queue", run.queue), ("type", run.filter.type), ("error", run.filter.error)])
        let body: HTML = """
            <p>\(what): \(state).</p>
            <progress value="\(min(run.scanned, max(run.total, 1)))" max="\(max(run.total, 1))"></progress>
            <dl class="fields bulk-progress"><dt>Looked at</dt><dd class="scanned">\(run.scanned) of \(run.total) dead when it started</dd>\
            <dt>\(run.verb.past)</dt><dd class="done">\(run.done)</dd>\
            <dt>Skipped</dt><dd class="skipped">\(Self.skippedText(run))</dd></dl>
            <p><a href="\(back)">Back to the dead jobs of \(run.queue)</a></p>
            """
        var page = Page(title: "Bulk action", path: "/dead", readOnly: configuration.readOnly, body: body)
        page.refreshSeconds = run.isRunning ? 1 : nil
        return page
    }
}
