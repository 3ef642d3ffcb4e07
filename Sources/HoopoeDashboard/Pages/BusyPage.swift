import Foundation
import HoopoeCore

extension Dashboard {
    /// `/busy`: live processes, and the jobs workers hold now — the stream entries delivered and not yet
    /// acknowledged (`XPENDING`), at most a page a queue.
    ///
    /// Each with the time since its lease was last renewed (`XPENDING`'s idle time), not how long it has run: a worker
    /// renews its jobs' leases every fifth of the lease (2 s by default) by claiming them again, which resets that
    /// time, and records no run's start. The column was "Held for", and read "0s" for a job that had run for 21 s.
    func busyPage(_ query: FormFields) async throws -> Page {
        let processes = try await jobs.liveProcesses()
        let hosts = Dictionary(processes.map { ($0.id, $0.fields["host"] ?? "?") }, uniquingKeysWith: { first, _ in first })
        var rows: [HTML] = []
        var cut: [HTML] = []
        for queue in try await queueNames() {
            let entries = try await jobs.store.heldEntries(queue: queue, limit: configuration.pageSize)
            // A page a queue, the oldest first: when it is full, say how many there are (the overview's "in flight").
            if entries.count >= configuration.pageSize {
                let total = try await jobs.info(queue: queue).inFlight
                if total > entries.count { cut.append("<li>\(queue): the oldest \(entries.count) of \(total) held</li>") }
            }
            for held in entries {
                let envelope = held.envelope.map(shown)
                let id = envelope?.id ?? held.entryID
                rows.append(
                    """
                    <tr><td><code>\(held.consumer)</code></td><td>\(hosts[held.consumer] ?? "gone")</td><td>\(queue)</td>\
                    <td><a href="/job\(QueryString.make([("queue", queue), ("id", envelope?.id)]))">\(id)</a></td><td>\(envelope?.type ?? "?")</td>\
                    <td>\(Clock.span(held.idleSeconds)) ago</td><td class="num">\(held.deliveries)</td></tr>
                    """)
            }
        }
        let held: HTML =
            rows.isEmpty
            ? "<p class=\"muted\">No job is held by a worker.</p>"
            : """
            <table class="busy"><thead><tr><th>Worker</th><th>Host</th><th>Queue</th><th>Job</th><th>Type</th>\
            <th title="Since the worker last renewed the job's lease (every 2 s by default while it holds the job), or since the delivery: not how long the job has run">Lease renewed</th>\
            <th class="num">Deliveries</th></tr></thead><tbody>\(rows)</tbody></table>
            <p class="muted">"Lease renewed" is the time since the worker last renewed the job's lease (every fifth \
            of the lease, 2 s by default, while it holds the job) or, before the first renewal, since the delivery: a \
            few seconds at most for a live worker, however long the job has run (a worker does not record when a run \
            started). Longer means the worker has stopped renewing: past the lease (10 s by default) another worker \
            takes the job. A job a worker prefetched but has not started is held too.</p>
            \(cut.isEmpty ? HTML.empty : "<p>Not every held job is listed:</p><ul class=\"cut\">\(cut)</ul>")
            """
        let body: HTML = """
            <h2>Processes</h2>\(processTable(processes))
            <h2>Jobs held by workers</h2>\(held)
            """
        return Page(title: "Busy", path: "/busy", readOnly: configuration.readOnly, body: body)
    }
}
