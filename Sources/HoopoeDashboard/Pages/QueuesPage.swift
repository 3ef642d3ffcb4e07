import Foundation
import HoopoeCore

extension Dashboard {
    /// `/queues`: every queue's depths, latency and workers, and today's counters by outcome.
    func queuesPage(_ query: FormFields) async throws -> Page {
        let names = try await queueNames()
        var infos: [QueueInfo] = []
        var counterRows: [HTML] = []
        for name in names {
            infos.append(try await jobs.info(queue: name))
            let today = try await jobs.counters(queue: name, day: Date())
            let cells = ["processed", "failed", "retried", "dead", "discarded"].map { key -> HTML in "<td class=\"num\">\(today[key] ?? 0)</td>" }
            counterRows.append("<tr><td>\(name)</td>\(cells)</tr>")
        }
        let processes = try await jobs.liveProcesses()
        let body: HTML = """
            \(queueTable(infos, processes: processes))
            <p class="later">Pause and resume (a "paused" column and its buttons) come with issue 14's pause/resume work, after the topologies work: the engine has no paused state to show yet.</p>
            <h2>Today (UTC) by outcome</h2>
            <table class="counters"><thead><tr><th>Queue</th><th class="num">Processed</th><th class="num">Failed</th><th class="num">Retried</th>\
            <th class="num">Dead</th><th class="num">Discarded</th></tr></thead><tbody>\(counterRows)</tbody></table>
            """
        return Page(title: "Queues", path: "/queues", readOnly: configuration.readOnly, body: body)
    }
}
