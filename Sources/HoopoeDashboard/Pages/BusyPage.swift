import Foundation
import HoopoeCore

extension Dashboard {
    /// `/busy`: live processes, and the jobs workers hold now — the stream entries delivered and not yet
    /// acknowledged (`XPENDING`), at most a page a queue.
    ///
    /// Each with when its run started, as its worker's last heartbeat lists it (``ProcessRun``, the oldest
    /// ``ProcessRun/listedLimit`` runs of a worker), or "not running" for a job it holds and does not run (a prefetched
    /// job, or one that finished and waits for its acknowledgement to land: a worker unlists a run before it settles;
    /// Sidekiq's Busy page shows each run's start, and a job that runs must be told from one that does not); and with the time since its lease was last renewed (`XPENDING`'s idle time), which a worker resets every
    /// fifth of the lease (2 s by default) by claiming the job again: that column was "Held for" once, and read "0s"
    /// for a job that had run for 21 s.
    func busyPage(_ query: FormFields) async throws -> Page {
        let processes = try await jobs.liveProcesses()
        let records = Dictionary(processes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // Each worker's runs by queue and entry id, read once a page.
        let runs = records.compactMapValues { record in
            record.runs.map { Dictionary($0.map { (Self.runKey($0.queue, $0.entryID), $0) }, uniquingKeysWith: { first, _ in first }) }
        }
        var rows: [HTML] = []
        var cut: [HTML] = []
        // A queue Redis refuses to read (its stream key of another type) gets a row that names it; the others are shown.
        let reads = try await QueueReads.reading(try await queueNames()) { queue in
            let entries = try await jobs.store.heldEntries(queue: queue, limit: configuration.pageSize)
            // A page a queue, the oldest first: when it is full, say how many there are (the overview's "in flight").
            let total = entries.count >= configuration.pageSize ? try await jobs.info(queue: queue).inFlight : entries.count
            return (entries: entries, total: total)
        }
        for (queue, read) in reads.values {
            let entries = read.entries
            if read.total > entries.count { cut.append("<li>\(queue): the oldest \(entries.count) of \(read.total) held</li>") }
            for held in entries {
                let envelope = held.envelope.map(shown)
                let id = envelope?.id ?? held.entryID
                let record = records[held.consumer]
                let started = startedCell(record: record, run: runs[held.consumer]?[Self.runKey(queue, held.entryID)])
                rows.append(
                    """
                    <tr><td><code>\(held.consumer)</code></td><td>\(record?.fields["host"] ?? "gone")</td><td>\(queue)</td>\
                    <td><a href="/job\(QueryString.make([("queue", queue), ("id", envelope?.id)]))">\(id)</a></td><td>\(envelope?.type ?? "?")</td>\
                    \(started)<td>\(Clock.span(held.idleSeconds)) ago</td><td class="num">\(held.deliveries)</td></tr>
                    """)
            }
        }
        // In the table, by the queue's column: what a worker of that queue holds is unknown.
        for unreadable in reads.unreadable {
            rows.append(
                """
                <tr class="unreadable-queue" data-queue="\(Self.shownQueueName(unreadable.queue))"><td colspan="2"></td>\
                <td>\(Self.shownQueueName(unreadable.queue))</td><td colspan="5" class="error">\(unreadable.said)</td></tr>
                """)
        }
        let held: HTML =
            rows.isEmpty
            ? "<p class=\"muted\">No job is held by a worker.</p>"
            : """
            <table class="busy"><thead><tr><th>Worker</th><th>Host</th><th>Queue</th><th>Job</th><th>Type</th>\
            <th title="When the worker started running the job, as its last heartbeat (every 5 s) says, by the worker host's clock">Started</th>\
            <th title="Since the worker last renewed the job's lease (every 2 s by default while it holds the job), or since the delivery: not how long the job has run">Lease renewed</th>\
            <th class="num">Deliveries</th></tr></thead><tbody>\(rows)</tbody></table>
            <p class="muted">"Started" is when the worker began running the job, as its last heartbeat (every 5 s) \
            listed it: the time is the worker host's clock, and "ago" is counted on that clock up to the beat and on \
            Redis's since, so this host's clock does not enter it. "Waiting in the worker" is a job the worker fetched \
            ahead and had not started at that beat (or started since). A heartbeat lists a worker's \
            \(ProcessRun.listedLimit) oldest runs at most.</p>
            <p class="muted">"Lease renewed" is the time since the worker last renewed the job's lease (every fifth \
            of the lease, 2 s by default, while it holds the job) or, before the first renewal, since the delivery: a \
            few seconds at most for a live worker, however long the job has run. Longer means the worker has stopped \
            renewing: past the lease (10 s by default) another worker takes the job.</p>
            \(cut.isEmpty ? HTML.empty : "<p>Not every held job is listed:</p><ul class=\"cut\">\(cut)</ul>")
            """
        let body: HTML = """
            <h2>Processes</h2>\(processTable(processes))
            <h2>Jobs held by workers</h2>\(held)
            """
        return Page(title: "Busy", path: "/busy", readOnly: configuration.readOnly, body: body)
    }

    /// A run's key among a worker's runs: queue and entry id (two queues' streams can give one id).
    private static func runKey(_ queue: String, _ entryID: String) -> String { queue + " " + entryID }

    /// The "Started" cell of a held job: `run`, the worker's listing of it, or why there is none.
    private func startedCell(record: ProcessRecord?, run: ProcessRun?) -> HTML {
        guard let record else { return "<td class=\"muted\" title=\"the worker's heartbeat is gone\">-</td>" }
        if let run {
            let ago = record.runningFor(run).map { "\(Clock.span($0)) ago" } ?? "?"
            return "<td title=\"by the worker host's clock\">\(ago) <span class=\"muted\">(\(Clock.utc(run.startedAt)))</span></td>"
        }
        guard record.runs != nil else {
            return "<td class=\"muted\" title=\"its worker's heartbeat does not list its runs (an earlier release)\">-</td>"
        }
        guard record.listsEveryRun else {
            return """
                <td class="muted" title="its worker's heartbeat lists its \(ProcessRun.listedLimit) oldest runs of \(record.fields["busy"] ?? "?")">\
                not listed: running or waiting</td>
                """
        }
        return "<td title=\"held, not running at the worker's last heartbeat, \(Clock.span(record.age)) ago\">not running (prefetched, or settling)</td>"
    }
}
