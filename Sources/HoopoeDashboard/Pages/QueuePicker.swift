import HoopoeCore

extension Dashboard {
    /// The queue a list page shows: the `queue` parameter when it is a valid queue name, known or not (a queue made
    /// since the list of queues was cached, up to 30 s ago, or one with nothing in it: its page is empty, not another
    /// queue's, with that queue's "delete all" a click away); without the parameter, the first known queue with
    /// something in it (`counts`: the picker's count of what the page lists), else the first known queue; nil when
    /// the parameter is no queue name, or no queue is known (``noQueueBody(_:)`` says which).
    ///
    /// Why not simply the first by name: the Dead page opened on an empty `critical` while `default` held the dead
    /// jobs, its Retry all and Delete all pointed at the empty queue, and the page read as "no dead jobs".
    func chosenQueue(_ query: FormFields, among names: [String], counts: [String: Int] = [:]) -> String? {
        if let asked = query["queue"] { return EnvelopeRules.queueProblem(asked) == nil ? asked : nil }
        return names.first { (counts[$0] ?? 0) > 0 } ?? names.first
    }

    /// The known queues a list page offers (``queueNames()``) whose names a queue may have (``EnvelopeRules/queueProblem(_:)``):
    /// keys written by hand under another name (`q x`, a key-like string) are listed on Overview and Queues with a note,
    /// never as a page to open, as the Queues page gives them no action.
    func validQueueNames() async throws -> [String] {
        try await queueNames().filter { EnvelopeRules.queueProblem($0) == nil }
    }

    /// What a list page says when ``chosenQueue(_:among:)`` found no queue.
    func noQueueBody(_ query: FormFields) -> HTML {
        if let asked = query["queue"] { return "<p class=\"muted\">No queue can be named <code>\(asked)</code>.</p>" }
        return "<p class=\"muted\">No queue in Redis yet.</p>"
    }

    /// Links to the same page for each queue, with `count` beside each, or "cannot be read" for a queue whose count
    /// Redis refused (`unreadable`: a key of another type), the reason on hover.
    ///
    /// `names` are valid queue names only (``validQueueNames()``): a link to a name no queue may have led to "No queue
    /// can be named".
    func queuePicker(path: String, names: [String], current: String?, count: [String: Int], unreadable: [UnreadableQueue] = []) -> HTML {
        let refused = Dictionary(unreadable.map { ($0.queue, $0) }, uniquingKeysWith: { first, _ in first })
        let links = names.map { name -> HTML in
            let label: HTML = refused[name].map { "\(name) (<span class=\"error\" title=\"\($0.said)\">cannot be read</span>)" } ?? "\(name) (\(count[name] ?? 0))"
            return name == current
                ? "<strong>\(label)</strong>" : "<a href=\"\(path)\(QueryString.make([("queue", name)]))\">\(label)</a>"
        }
        return "<p class=\"queues\">Queue: \(HTML.joined(links, separator: " · "))</p>"
    }

    /// "Newer / older" links for a page of `limit` rows from `offset`.
    ///
    /// An offset past the end (a link kept from when the list was longer, or typed) shows "0 of N", and "previous" goes
    /// to the last page that has rows: it read "0–500 of 2", and "previous" led to another empty page.
    func pager(path: String, pairs: [(String, String?)], offset: Int, limit: Int, shown: Int, total: Int) -> HTML {
        var links: [HTML] = []
        if offset > 0 {
            let lastPage = total > 0 ? (total - 1) / max(1, limit) * max(1, limit) : 0
            let previous = min(max(0, offset - limit), lastPage)
            links.append("<a href=\"\(path)\(QueryString.make(pairs + [("offset", String(previous))]))\">« previous</a>")
        }
        let range: HTML = shown == 0 ? "0 of \(total)" : "\(offset + 1)–\(offset + shown) of \(total)"
        links.append("<span class=\"muted\">\(range)</span>")
        if offset + shown < total { links.append("<a href=\"\(path)\(QueryString.make(pairs + [("offset", String(offset + limit))]))\">next »</a>") }
        return "<div class=\"pager\">\(links)</div>"
    }
}
