import Foundation
import HoopoeCore
import HTTPTypes
import Hummingbird
import Logging

extension Dashboard {
    /// `/queues`: every queue's depths, latency, pause and workers, with Pause/Resume buttons, and today's counters by
    /// outcome.
    func queuesPage(_ query: FormFields) async throws -> Page {
        // A queue Redis refuses to read (a key of another type) is named in its row, with no action; the others are
        // shown (QueueReads).
        let reads = try await QueueReads.reading(try await queueNames()) { name in
            (info: try await jobs.info(queue: name), today: try await jobs.counters(queue: name, day: Date()))
        }
        let infos = reads.values.map(\.value.info)
        var counterRows: [(queue: String, row: HTML)] = []
        for (name, read) in reads.values {
            // Deferred and early too: an SMS put off by quiet hours or the daily cap, or a job that came before its run_at,
            // showed under no outcome.
            let cells = ["processed", "failed", "retried", "dead", "discarded", "deferred", "early"].map { key -> HTML in "<td class=\"num\">\(read.today[key] ?? 0)</td>" }
            counterRows.append((name, "<tr><td>\(Self.shownQueueName(name))</td>\(cells)</tr>"))
        }
        let paused = try await jobs.pausedQueues()
        let processes = try await jobs.liveProcesses()
        let body: HTML = """
            \(pauseTable(infos, paused: paused, processes: processes, unreadable: reads.unreadable))
            <p class="muted">A paused queue keeps its jobs ready; every worker stops fetching from it within a second, and \
            jobs already running finish (<code>hoopoe queue pause</code> and <code>resume</code> do the same). Clear… removes a \
            queue's waiting jobs, or those of one type: for a flood that must not run, pause it first \
            (<code>hoopoe queue clear</code> does the same).</p>
            <h2>Today (UTC) by outcome</h2>
            <table class="counters"><thead><tr><th>Queue</th><th class="num">Processed</th><th class="num">Failed</th><th class="num">Retried</th>\
            <th class="num">Dead</th><th class="num">Discarded</th><th class="num" title="put off by the handler: a job enqueued in its place">Deferred</th>\
            <th class="num" title="arrived before its run_at: moved to the scheduled set">Early</th></tr></thead>\
            <tbody>\(Self.rowsInOrder(counterRows, reads.unreadable, columns: 7))</tbody></table>
            """
        return Page(title: "Queues", path: "/queues", readOnly: configuration.readOnly, body: body)
    }

    /// The queues' numbers with a Paused column and, unless read-only, a Pause or Resume button per queue; a queue Redis
    /// refused to read (`unreadable`) has a row that says why, in name order, and no action (its numbers unknown).
    private func pauseTable(_ infos: [QueueInfo], paused: [String: Date], processes: [ProcessRecord], unreadable: [UnreadableQueue]) -> HTML {
        guard !infos.isEmpty || !unreadable.isEmpty else { return "<p class=\"muted\">No queue in Redis yet.</p>" }
        let now = Date()
        let rows = infos.map { info -> (queue: String, row: HTML) in
            let since = paused[info.queue]
            let state: HTML = since.map { "<span class=\"paused\">paused</span> \(Clock.span(max(0, now.timeIntervalSince($0)))) ago" } ?? "no"
            let pauseOrResume =
                since == nil
                ? button("Pause", action: "/queues/pause", fields: [("queue", info.queue)], danger: true)
                : button("Resume", action: "/queues/resume", fields: [("queue", info.queue)])
            let clear: HTML =
                configuration.readOnly ? .empty : " <a class=\"clear-link\" href=\"/queues/clear\(QueryString.make([("queue", info.queue)]))\">Clear…</a>"
            // None for a name no queue may have: Pause answered it 400 and Clear "No queue can be named" (queueNameCell says why).
            let action: HTML = EnvelopeRules.queueProblem(info.queue) == nil ? "\(pauseOrResume)\(clear)" : .empty
            let link = Self.queueLink(info.queue)
            let row: HTML = """
                <tr data-queue="\(Self.shownQueueName(info.queue))">\(Self.queueNameCell(info.queue))\
                <td class="num">\(info.ready)</td><td class="num">\(info.inFlight)</td>\
                <td class="num">\(link("/scheduled", "\(info.scheduled)"))</td>\
                <td class="num">\(link("/dead", "\(info.dead)"))</td><td class="num">\(Clock.span(info.latency))</td>\
                <td class="pause-state">\(state)</td>\
                <td class="served-by">\(Self.servedBy(info.queue, processes: processes))</td><td>\(action)</td></tr>
                """
            return (info.queue, row)
        }
        return """
            <table class="queues"><thead><tr><th>Queue</th><th class="num">Ready</th><th class="num">In flight</th><th class="num">Scheduled</th>\
            <th class="num">Dead</th><th class="num">Latency</th><th>Paused</th><th>Served by</th><th></th></tr></thead>\
            <tbody>\(Self.rowsInOrder(rows, unreadable, columns: 8))</tbody></table>
            """
    }

    /// `POST /queues/pause` and `/queues/resume` (`queue`): pauses or resumes the queue for every worker.
    func pauseAction(_ form: FormFields, pause: Bool) async throws -> Response {
        guard let queue = form["queue"], EnvelopeRules.queueProblem(queue) == nil else { return Page.plain(.badRequest, "a queue name is required\n") }
        guard pause ? try await queueNames().contains(queue) : true else { return Page.plain(.notFound, "no queue named \(queue)\n") }
        let changed = pause ? try await jobs.pause(queue: queue) : try await jobs.resume(queue: queue)
        let notice =
            switch (pause, changed) {
            case (true, true): "Paused \(queue): workers stop fetching from it within a second; its jobs stay ready."
            case (true, false): "\(queue) was already paused."
            case (false, true): "Resumed \(queue): workers fetch from it again within a second."
            case (false, false): "\(queue) was not paused."
            }
        logger.notice("dashboard: \(notice)")
        return Page.after("/queues", notice: notice)
    }
}
