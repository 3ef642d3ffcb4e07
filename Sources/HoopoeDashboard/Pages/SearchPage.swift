import Foundation
import HoopoeCore
import HoopoeJSON

/// What the search page matches a job against: an id, a type, a payload field, the job that enqueued it, each optional
/// (all given must match).
struct JobSearch {
    /// A job id: matched exactly.
    var id: String?
    /// The id of the job that enqueued it (the envelope's `enqueued_by`): the job page's "jobs it enqueued" link.
    var enqueuedBy: String?
    /// A type: exactly, or every type under a prefix that ends with a dot (`sms.`).
    var type: String?
    /// A payload field and the value it must have (`user_id=42`, `user.id=42` for a nested one), compared as text.
    var field: (path: [String], value: String)?

    /// From the page's query; `field` without an `=` is no filter (the page says so).
    init(_ query: FormFields) {
        id = query["id"]?.trimmingCharacters(in: .whitespaces)
        type = query["type"]?.trimmingCharacters(in: .whitespaces)
        enqueuedBy = query["enqueued_by"]?.trimmingCharacters(in: .whitespaces)
        if let text = query["field"], let equals = text.firstIndex(of: "=") {
            let path = text[..<equals].trimmingCharacters(in: .whitespaces).split(separator: ".").map(String.init)
            if !path.isEmpty { field = (path, String(text[text.index(after: equals)...]).trimmingCharacters(in: .whitespaces)) }
        }
    }

    var isEmpty: Bool { id == nil && type == nil && field == nil && enqueuedBy == nil }

    /// Texts a job's stored JSON must contain for it to match, tested before it is decoded: the type, and the field's
    /// name and value when JSON writes them as they are (letters, digits, `.-_@+`). A value with anything else (a
    /// masked phone's `*`, a character JSON may escape) adds no needle, so a needle never hides a match.
    var needles: [[UInt8]] {
        func plain(_ text: String) -> Bool { !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_@+".unicodeScalars.contains($0)) } }
        var result: [[UInt8]] = []
        if let type, plain(type) { result.append(Array(type.utf8)) }
        if let enqueuedBy, plain(enqueuedBy) { result.append(Array("\"\(JobEnvelope.enqueuedByField)\":\"\(enqueuedBy)\"".utf8)) }
        if let field {
            if let key = field.path.last, plain(key) { result.append(Array("\"\(key)\"".utf8)) }
            if plain(field.value) { result.append(Array(field.value.utf8)) }
        }
        return result
    }

    /// True when `envelope` (as it may be shown: secret keys removed, phones masked) matches every filter given.
    /// Matching the shown payload, not the stored one, keeps a search from confirming a secret's value.
    func matches(_ envelope: JobEnvelope) -> Bool {
        if let id, envelope.id != id { return false }
        if let type, !(envelope.type == type || (type.hasSuffix(".") && envelope.type.hasPrefix(type))) { return false }
        if let enqueuedBy, envelope.enqueuedBy != enqueuedBy { return false }
        if let field {
            var value: JSONValue? = envelope.payload
            for key in field.path { value = value?[key] }
            guard let text = value?.stringValue, text == field.value else { return false }
        }
        return true
    }
}

extension Dashboard {
    /// How many jobs of each place (history, stream, scheduled, dead) a search reads per queue.
    static let searchDepth = 1000
    /// The most matches a search lists.
    static let searchResults = 200

    /// `/search?id=&type=&field=&enqueued_by=&queue=`: recent jobs by id, type, payload field or the job that enqueued
    /// them, over a bounded read of each queue's history, stream, scheduled and dead sets
    /// (``JobStore/recentJobs(queue:limit:needles:byteBudget:)``): large stored jobs stop a place's read at its share of
    /// ``JobStore/searchByteBudget``, and the page says so.
    func searchPage(_ query: FormFields) async throws -> Page {
        let search = JobSearch(query)
        let names = try await queueNames()
        let selected = query["queue"].map { [$0] } ?? names
        var body: HTML = searchForm(query, queues: names)
        body = "\(body)<p class=\"muted bound\">Searches the newest \(Self.searchDepth) finished jobs (job history), the newest \(Self.searchDepth) in each stream, the first \(Self.searchDepth) scheduled and the newest \(Self.searchDepth) dead jobs of each queue; shows at most \(Self.searchResults) matches. Payload fields are matched as shown: secret fields removed, phone numbers masked.</p>"
        guard !search.isEmpty else {
            return Page(title: "Search", path: "/search", readOnly: configuration.readOnly, body: "\(body)<p>Give a job id, a type or a payload field (<code>user_id=42</code>).</p>")
        }
        var matches: [(queue: String, job: RecentJob, shown: JobEnvelope)] = []
        var seen: Set<String> = []
        var cut: [String] = []
        var unreadable: [UnreadableQueue] = []
        reading: for queue in selected {
            // By id: the job's own entries (one look-up each), not every recent job. A queue Redis refuses to read (its
            // stream key of another type) is named under the results; the others are searched (QueueReads).
            let reads = try await QueueReads.reading([queue]) { queue -> (jobs: [RecentJob], cut: Bool) in
                guard let id = search.id else {
                    let read = try await jobs.store.recentJobs(queue: queue, limit: Self.searchDepth, needles: search.needles)
                    return (read.jobs, read.cut)
                }
                return (try await jobs.store.recentJob(id: id, queue: queue, limit: Self.searchDepth), false)
            }
            unreadable += reads.unreadable
            guard let read = reads.values.first?.value else { continue }
            let recent = read.jobs
            if read.cut { cut.append(queue) }
            // A dead job retried is in its stream or scheduled set again while its history record still says dead: the
            // live copy is the one shown (as the job page does), not "finished: dead" until it finishes again.
            let live = Set(recent.filter { $0.place != .finished }.map(\.envelope.id))
            for job in recent where !(job.place == .finished && job.record?.outcome == .dead && live.contains(job.envelope.id)) {
                let shown = shown(job.envelope)
                guard search.matches(shown), seen.insert("\(queue)\u{0}\(shown.id)").inserted else { continue }
                matches.append((queue, job, shown))
                if matches.count >= Self.searchResults { break reading }
            }
        }
        let rows = matches.map { match -> HTML in
            let link = "/job" + QueryString.make([("id", match.shown.id), ("queue", match.queue)])
            let state: String = match.job.record.map { "finished: \($0.outcome.rawValue)" } ?? match.job.place.rawValue
            let when = match.job.at.map { Clock.relative($0) } ?? "-"
            return """
                <tr><td><a class="job-link" href="\(link)"><code>\(match.shown.id)</code></a></td><td>\(match.shown.type)</td><td>\(match.queue)</td>\
                <td>\(state)</td><td>\(when)</td><td><code class="payload-inline">\(String(decoding: match.shown.payload.encoded().prefix(160), as: UTF8.self))</code></td></tr>
                """
        }
        let results: HTML = matches.isEmpty
            ? "<p class=\"none\">No job matches in \(selected.count == 1 ? "queue \(selected[0])" : "the \(selected.count) known queues").</p>"
            : """
                <p class="count">\(matches.count)\(matches.count >= Self.searchResults ? "+" : "") match(es)</p>
                <table class="search-results"><thead><tr><th>Id</th><th>Type</th><th>Queue</th><th>State</th><th>When</th><th>Payload</th></tr></thead>\
                <tbody>\(rows)</tbody></table>
                """
        // Large envelopes: a place's read stopped at its share of the bytes a search may read (JobStore.searchByteBudget).
        let stopped: HTML = cut.isEmpty ? .empty : """
            <p class="muted cut">In \(cut.count == 1 ? "queue" : "queues") \(cut.joined(separator: ", ")) the search stopped before \(Self.searchDepth) jobs of a place: \
            their stored jobs are large, and a search reads at most \(JobStore.searchByteBudget >> 20) MiB of them a queue. A job id finds a job wherever it is.</p>
            """
        return Page(title: "Search", path: "/search", readOnly: configuration.readOnly, body: "\(body)\(results)\(stopped)\(Self.unreadableNotes(unreadable))")
    }

    private func searchForm(_ query: FormFields, queues: [String]) -> HTML {
        let options = queues.map { name -> HTML in
            "<option value=\"\(name)\"\(query["queue"] == name ? " selected" : "")>\(name)</option>"
        }
        return """
            <form class="search-form" method="get" action="/search">\
            <label>Job id <input name="id" value="\(query["id"] ?? "")"></label> \
            <label>Type <input name="type" value="\(query["type"] ?? "")" placeholder="sms.send or sms."></label> \
            <label>Payload field <input name="field" value="\(query["field"] ?? "")" placeholder="user_id=42"></label> \
            <label>Enqueued by <input name="enqueued_by" value="\(query["enqueued_by"] ?? "")" placeholder="a job id"></label> \
            <label>Queue <select name="queue"><option value="">all</option>\(options)</select></label> \
            <button>Search</button></form>
            """
    }
}
