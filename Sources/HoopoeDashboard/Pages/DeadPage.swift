import Foundation
import HoopoeCore
import HTTPTypes
import Hummingbird

/// The dead page's filter: type (exact) and error text (case-insensitive substring of the shown reason).
struct DeadFilter {
    var type: String?
    var error: String?

    init(_ fields: FormFields) {
        type = fields["type"]
        error = fields["error"]
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

    /// `/dead?queue=Q&type=T&error=E&offset=N`: the dead set of one queue, newest first, filtered; retry or delete
    /// one, the selected, or every match.
    func deadPage(_ query: FormFields) async throws -> Page {
        let names = try await queueNames()
        var counts: [String: Int] = [:]
        for name in names { counts[name] = try await jobs.store.deadCount(queue: name) }
        guard let queue = chosenQueue(query, among: names) else {
            return Page(title: "Dead", path: "/dead", readOnly: configuration.readOnly, body: "<p class=\"muted\">No queue in Redis yet.</p>")
        }
        let filter = DeadFilter(query)
        let start = query.offset("offset")
        let limit = configuration.pageSize
        var matches: [DeadEntry] = []
        var position = start
        var scanned = 0
        while matches.count < limit, scanned < Self.deadScanBudget {
            let chunk = try await jobs.store.deadEntries(queue: queue, offset: position, limit: filter.isEmpty ? limit - matches.count : 200)
            if chunk.isEmpty { break }
            for entry in chunk {
                position += 1
                scanned += 1
                if filter.matches(entry.envelope.map(shown)) {
                    matches.append(entry)
                    if matches.count == limit { break }
                }
            }
        }
        let total = counts[queue] ?? 0
        let filterPairs: [(String, String?)] = [("queue", queue), ("type", filter.type), ("error", filter.error)]
        let rows = matches.map { entry -> HTML in
            let envelope = entry.envelope.map(shown)
            let select: HTML = configuration.readOnly ? .empty : "<td><input type=\"checkbox\" name=\"id\" value=\"\(entry.id)\" form=\"selected\" aria-label=\"select \(entry.id)\"></td>"
            return """
                <tr>\(select)<td><a href="/job\(QueryString.make([("queue", queue), ("id", entry.id)]))">\(entry.id)</a></td>\
                <td>\(envelope?.type ?? "(unreadable)")</td><td>\(Clock.relative(entry.diedAt))</td><td class="num">\(envelope?.attempt ?? 0)</td>\
                <td class="error">\(envelope?.deadReason ?? envelope?.lastError ?? "")</td>\
                <td class="actions">\(button("Retry", action: "/dead/action", fields: [("queue", queue), ("id", entry.id), ("do", "retry")]))\
                \(button("Delete", action: "/dead/action", fields: [("queue", queue), ("id", entry.id), ("do", "delete")], danger: true))</td></tr>
                """
        }
        let selectAll: HTML = configuration.readOnly ? .empty : "<th><input type=\"checkbox\" data-select-all aria-label=\"select all\"></th>"
        let table: HTML =
            rows.isEmpty
            ? "<p class=\"muted\">No dead job\(filter.isEmpty ? "" : " matches the filter") in \(queue)\(scanned >= Self.deadScanBudget ? " among the \(scanned) looked at" : "").</p>"
            : """
            <table class="dead"><thead><tr>\(selectAll)<th>Job</th><th>Type</th><th>Died</th><th class="num">Attempts</th><th>Reason</th><th></th></tr></thead>\
            <tbody>\(rows)</tbody></table>
            """
        let more: HTML =
            position < total && (matches.count == limit || scanned >= Self.deadScanBudget)
            ? "<a href=\"/dead\(QueryString.make(filterPairs + [("offset", String(position))]))\">older »</a>" : .empty
        let newer: HTML = start > 0 ? "<a href=\"/dead\(QueryString.make(filterPairs))\">« newest</a>" : .empty
        let bulk: HTML =
            configuration.readOnly
            ? .empty
            : """
            <div class="actions"><form id="selected" method="post" action="/dead/action">\(csrf.field)<input type="hidden" name="queue" value="\(queue)">\
            <button name="do" value="retry">Retry selected</button> <button name="do" value="delete" class="danger">Delete selected</button></form>\
            \(button(filter.isEmpty ? "Retry all in \(queue)" : "Retry all matching", action: "/dead/action", fields: bulkFields(queue, filter, "retry-all"), confirm: "Retry every matching dead job of \(queue)?"))\
            \(button(filter.isEmpty ? "Delete all in \(queue)" : "Delete all matching", action: "/dead/action", fields: bulkFields(queue, filter, "delete-all"), danger: true, confirm: "Delete every matching dead job of \(queue)? This cannot be undone."))</div>
            """
        let body: HTML = """
            \(queuePicker(path: "/dead", names: names, current: queue, count: counts))
            <form class="filters" method="get" action="/dead"><input type="hidden" name="queue" value="\(queue)">\
            <label>Type<input name="type" value="\(filter.type ?? "")" placeholder="sms.send"></label>\
            <label>Error text<input name="error" value="\(filter.error ?? "")" placeholder="timeout"></label><button>Filter</button>\
            \(filter.isEmpty ? HTML.empty : "<a href=\"/dead\(QueryString.make([("queue", queue)]))\">clear</a>")</form>
            \(bulk)\(table)<div class="pager">\(newer)<span class="muted">\(matches.count) shown · \(total) dead in \(queue)</span>\(more)</div>
            """
        return Page(title: "Dead", path: "/dead", readOnly: configuration.readOnly, body: body)
    }

    private func bulkFields(_ queue: String, _ filter: DeadFilter, _ verb: String) -> [(String, String)] {
        var fields = [("queue", queue), ("do", verb)]
        if let type = filter.type { fields.append(("type", type)) }
        if let error = filter.error { fields.append(("error", error)) }
        return fields
    }

    /// POST `/dead/action`: `do` = retry | delete (the `id` fields) or retry-all | delete-all (every dead job of
    /// `queue` matching `type` / `error`). Retry puts a job back on its queue with its attempts reset (the same
    /// checks as `hoopoe dead retry`); a job that cannot run again is left dead and counted as skipped.
    func deadAction(_ form: FormFields) async throws -> Response {
        guard let queue = form["queue"], let verb = form["do"] else { return Page.plain(.badRequest, "queue and do are required\n") }
        let filter = DeadFilter(form)
        let ids: [String]
        switch verb {
        case "retry", "delete": ids = form.all("id")
        case "retry-all", "delete-all": ids = try await matchingDeadIDs(queue: queue, filter: filter)
        default: return Page.plain(.badRequest, "unknown action\n")
        }
        var done = 0
        var skipped = 0
        for id in ids {
            let changed: Bool
            if verb.hasPrefix("retry") {
                changed = (try? await jobs.retryDead(id: id, queue: queue)) ?? false
            } else {
                changed = try await jobs.deleteDead(id: id, queue: queue)
            }
            if changed { done += 1 } else { skipped += 1 }
        }
        let what = verb.hasPrefix("retry") ? "Retried" : "Deleted"
        let notice = "\(what) \(done) dead job\(done == 1 ? "" : "s") of \(queue)" + (skipped > 0 ? "; \(skipped) skipped (gone, or cannot run again)." : ".")
        return Page.after("/dead" + QueryString.make([("queue", queue), ("type", filter.type), ("error", filter.error)]), notice: notice)
    }

    /// Every dead job id of `queue` that `filter` matches, read a chunk at a time.
    private func matchingDeadIDs(queue: String, filter: DeadFilter) async throws -> [String] {
        var ids: [String] = []
        var offset = 0
        while true {
            let chunk = try await jobs.store.deadEntries(queue: queue, offset: offset, limit: 500)
            if chunk.isEmpty { return ids }
            offset += chunk.count
            ids += chunk.filter { filter.matches($0.envelope.map(shown)) }.map(\.id)
        }
    }
}
