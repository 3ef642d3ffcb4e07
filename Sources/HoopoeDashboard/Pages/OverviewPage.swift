import Foundation
import HoopoeCore

extension Dashboard {
    /// `/`: today's counters (the engine's daily counters, UTC), queues at a glance, live processes.
    func overview(_ query: FormFields) async throws -> Page {
        // A queue Redis refuses to read (a key of another type) is named in its row; the others are shown (QueueReads).
        let reads = try await QueueReads.reading(try await queueNames()) { name in
            (info: try await jobs.info(queue: name), today: try await jobs.counters(queue: name, day: Date()))
        }
        let names = reads.readable
        let infos = reads.values.map(\.value.info)
        let today = reads.values.map(\.value.today)
        let processes = try await jobs.liveProcesses()
        let paused = try await jobs.pausedQueues()
        func total(_ key: String) -> Int { today.reduce(0) { $0.addingSaturated($1[key] ?? 0) } }
        let cards: [HTML] = [
            card("processed today", total("processed")), card("failed today", total("failed"), bad: total("failed") > 0),
            card("dead today", total("dead"), bad: total("dead") > 0), card("ready", infos.reduce(0) { $0 + $1.ready }),
            card("in flight", infos.reduce(0) { $0 + $1.inFlight }), card("scheduled", infos.reduce(0) { $0 + $1.scheduled }),
            card("dead", infos.reduce(0) { $0 + $1.dead }, bad: infos.contains { $0.dead > 0 }),
            card("workers", processes.filter { $0.kind == "worker" }.count), card("schedulers", processes.filter { $0.kind == "scheduler" }.count),
        ]
        let chart = BarChart(
            series: [.init(name: "processed", color: "#2e7d4f"), .init(name: "failed", color: "#d98b18"), .init(name: "dead", color: "#b42318")],
            rows: zip(names, today).map { name, counters in
                (Self.shownQueueName(name), [counters["processed"] ?? 0, counters["failed"] ?? 0, counters["dead"] ?? 0])
            })
        let (lastHour, lastDay, chartsRefused) = try await timeCharts(names)
        let body: HTML = """
            <div class="cards">\(cards)</div>
            <h2>Last hour, per minute (UTC)</h2>\(lastHour.svg)
            <h2>Last day, per hour (UTC)</h2>\(lastDay.svg)
            <p class="muted">All queues together, as the workers count them when jobs settle (kept two days).</p>\(Self.unreadableNotes(chartsRefused))
            <h2>Today (UTC) per queue</h2>\(names.isEmpty ? (reads.unreadable.isEmpty ? "<p class=\"muted\">No queue in Redis yet.</p>" : "<p class=\"muted\">No queue could be read.</p>") as HTML : chart.svg)
            <h2>Queues</h2>\(queueTable(infos, processes: processes, paused: paused, unreadable: reads.unreadable))
            <h2>Processes</h2>\(processTable(processes))
            """
        return Page(title: "Overview", path: "/", readOnly: configuration.readOnly, body: body)
    }

    /// The series the time charts draw, with the counters they read.
    private static let timeSeries: [(counter: String, series: BarChart.Series)] = [
        ("processed", .init(name: "processed", color: "#2e7d4f")), ("failed", .init(name: "failed", color: "#d98b18")),
        ("dead", .init(name: "dead", color: "#b42318")),
    ]

    /// Processed / failed / dead per minute over the last hour and per hour over the last day, summed over `queues`:
    /// per queue two `HGETALL`s and one pipeline of 24 `HMGET`s. A queue whose counters Redis refuses to read (a key
    /// of another type) is left out of the sums and returned, for the page to name.
    private func timeCharts(_ queues: [String]) async throws -> (TimeChart, TimeChart, [UnreadableQueue]) {
        let now = Date()
        let counters = Self.timeSeries.map(\.counter)
        var minutes = Array(repeating: Array(repeating: 0, count: counters.count), count: 60)
        let hourDates = (0..<24).map { now.addingTimeInterval(-Double(23 - $0) * 3600) }
        var hours = Array(repeating: Array(repeating: 0, count: counters.count), count: 24)
        let reads = try await QueueReads.reading(queues) { queue in
            (
                minutes: try await jobs.store.minuteCounts(queue: queue, fields: counters, minutes: 60, now: now),
                hours: try await jobs.store.hourTotals(queue: queue, hours: hourDates, fields: counters)
            )
        }
        for (_, read) in reads.values {
            for (index, values) in read.minutes.enumerated() {
                for (series, value) in values.enumerated() { minutes[index][series] = minutes[index][series].addingSaturated(value) }
            }
            for (index, values) in read.hours.enumerated() {
                for (series, value) in values.enumerated() { hours[index][series] = hours[index][series].addingSaturated(value) }
            }
        }
        let series = Self.timeSeries.map(\.series)
        let minuteSlots = minutes.enumerated().map { index, values in
            TimeChart.Slot(label: Self.utcClock(now.addingTimeInterval(-Double(59 - index) * 60)), values: values)
        }
        let hourSlots = hours.enumerated().map { index, values in
            TimeChart.Slot(label: String(Self.utcClock(hourDates[index]).prefix(2)) + ":00", values: values)
        }
        return (
            TimeChart(series: series, slots: minuteSlots, caption: "jobs per minute, last hour"),
            TimeChart(series: series, slots: hourSlots, caption: "jobs per hour, last day"),
            reads.unreadable
        )
    }

    /// `HH:MM` in UTC.
    private static func utcClock(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let within = ((seconds % 86_400) + 86_400) % 86_400
        return String(format: "%02d:%02d", within / 3600, (within % 3600) / 60)
    }

    private func card(_ label: String, _ value: Int, bad: Bool = false) -> HTML {
        "<div class=\"card\(bad ? " bad" : "")\"><div class=\"value\">\(value)</div><div class=\"label\">\(label)</div></div>"
    }

    /// One row a queue: the numbers `hoopoe queues` prints, whether it is paused (since when; its latency is then
    /// shown muted: waiting is what a paused queue's jobs do, not an alarm), and the workers that serve it.
    ///
    /// A queue Redis refused to read (`unreadable`: a key of another type) has a row that says so, in name order.
    func queueTable(_ infos: [QueueInfo], processes: [ProcessRecord], paused: [String: Date] = [:], unreadable: [UnreadableQueue] = []) -> HTML {
        let now = Date()
        guard !infos.isEmpty || !unreadable.isEmpty else { return "<p class=\"muted\">No queue in Redis yet.</p>" }
        let rows = infos.map { info -> (queue: String, row: HTML) in
            let since = paused[info.queue]
            let state: HTML = since.map { "<span class=\"paused\">paused</span> \(Clock.span(max(0, now.timeIntervalSince($0)))) ago" } ?? "no"
            let latency: HTML = since == nil ? "\(Clock.span(info.latency))" : "<span class=\"muted\">\(Clock.span(info.latency))</span>"
            let link = Self.queueLink(info.queue)
            let row: HTML = """
                <tr data-queue="\(Self.shownQueueName(info.queue))">\(Self.queueNameCell(info.queue))<td class="num">\(info.ready)</td>\
                <td class="num">\(info.inFlight)</td><td class="num">\(link("/scheduled", "\(info.scheduled)"))</td>\
                <td class="num">\(link("/dead", "\(info.dead)"))</td><td class="num">\(latency)</td>\
                <td class="pause-state">\(state)</td><td class="served-by">\(Self.servedBy(info.queue, processes: processes))</td></tr>
                """
            return (info.queue, row)
        }
        return """
            <table class="queues"><thead><tr><th>Queue</th><th class="num">Ready</th><th class="num">In flight</th><th class="num">Scheduled</th>\
            <th class="num">Dead</th><th class="num">Latency</th><th>Paused</th><th>Served by</th></tr></thead>\
            <tbody>\(Self.rowsInOrder(rows, unreadable, columns: 7))</tbody></table>
            """
    }

    /// The "Served by" cell's content: the workers that serve `queue` (``ProcessRecord/serves(_:)``, the rule of the
    /// health check's "no worker serves" warning), or "none"; then, muted, those that list it but fetch nothing new,
    /// with their state (`w1 (quiet)`): a quiet worker (SIGTSTP) was shown as serving, while the queue's jobs waited.
    static func servedBy(_ queue: String, processes: [ProcessRecord]) -> HTML {
        let servers = processes.filter { $0.serves(queue) }.map(\.id)
        let idle = ProcessRecord.notFetching(queue, among: processes)
        let serving: HTML = servers.isEmpty ? "<span class=\"muted\">none</span>" : HTML(text: servers.joined(separator: ", "))
        guard !idle.isEmpty else { return serving }
        let idleNames = ProcessRecord.namedWithState(idle)
        return "\(serving); <span class=\"muted not-fetching\" title=\"quiet (SIGTSTP) or stopping: fetches nothing new\">\(idleNames)</span>"
    }

    /// The longest queue name a table shows whole: a name written by hand may be thousands of characters.
    static let shownQueueNameLength = 40

    /// `name` as the tables show it: cut to ``shownQueueNameLength`` characters.
    static func shownQueueName(_ name: String) -> String {
        name.unicodeScalars.count <= shownQueueNameLength ? name : String(String.UnicodeScalarView(name.unicodeScalars.prefix(shownQueueNameLength))) + "…"
    }

    /// A queue's name cell: a link to its scheduled jobs; for a name no queue may have (``EnvelopeRules/queueProblem(_:)``:
    /// keys written by hand, a raw `XADD` to a stream key whose braces hold `<b>q x</b>`), the name cut, why it is none, and no link.
    ///
    /// Why listed, not left out: its jobs are in Redis and no worker will ever run them; an operator should see that.
    /// Why no link or action: every page refuses the name ("No queue can be named"), and Pause answered 400.
    static func queueNameCell(_ name: String) -> HTML {
        guard let problem = EnvelopeRules.queueProblem(name) else {
            return "<td><a href=\"/scheduled\(QueryString.make([("queue", name)]))\">\(name)</a></td>"
        }
        return """
            <td class="invalid-queue">\(shownQueueName(name)) <span class="muted">not a queue name (it \(problem)): no worker can \
            serve it, and the dashboard cannot open or act on it</span></td>
            """
    }

    /// A queue's number linked to one of its pages (`/dead`, `/scheduled`); the number alone for a name no queue may have.
    static func queueLink(_ name: String) -> (_ path: String, _ text: String) -> HTML {
        let valid = EnvelopeRules.queueProblem(name) == nil
        return { path, text in valid ? "<a href=\"\(path)\(QueryString.make([("queue", name)]))\">\(text)</a>" : "\(text)" }
    }

    /// Live processes as their heartbeats describe them.
    func processTable(_ processes: [ProcessRecord]) -> HTML {
        guard !processes.isEmpty else { return "<p class=\"muted\">No live worker or scheduler.</p>" }
        let rows = processes.sorted { ($0.kind, $0.id) < ($1.kind, $1.id) }.map { process -> HTML in
            let fields = process.fields
            let busy = process.kind == "worker" ? "\(fields["busy"] ?? "?") of \(fields["concurrency"] ?? "?")" : "-"
            let state = process.kind == "worker" ? Self.workerState(process) : "-"
            let what = process.kind == "worker" ? fields["queues"] ?? "" : "\(fields["tasks"] ?? "?") task(s)"
            return """
                <tr><td>\(process.kind)</td><td><code>\(process.id)</code></td><td>\(fields["host"] ?? "?")</td><td class="num">\(fields["pid"] ?? "?")</td>\
                <td>\(busy)</td><td>\(what)</td><td class="state">\(state)</td>\
                <td>\(process.up.map(Clock.span) ?? "-")</td><td>\(Clock.span(process.age)) ago</td></tr>
                """
        }
        return """
            <table class="processes"><thead><tr><th>Kind</th><th>Id</th><th>Host</th><th class="num">Pid</th><th>Busy</th><th>Queues / tasks</th>\
            <th title="running; quiet after SIGTSTP (fetches nothing new, serves no queue); draining or stopping while it stops">State</th>\
            <th>Up</th><th>Last beat</th></tr></thead><tbody>\(rows)</tbody></table>
            """
    }

    /// A worker's state as its heartbeat says (``ProcessRecord/workerState``): `running` for a record without one (a
    /// worker of an older release fetches), `?` for a state this release does not know; a worker that fetches nothing
    /// new is marked.
    private static func workerState(_ process: ProcessRecord) -> HTML {
        guard process.fields[ProcessRecord.stateField] != nil else { return HTML(text: WorkerState.running.description) }
        guard let state = process.workerState else { return "?" }
        return state == .running ? HTML(text: state.description) : "<span class=\"not-fetching\">\(state.description)</span>"
    }
}
