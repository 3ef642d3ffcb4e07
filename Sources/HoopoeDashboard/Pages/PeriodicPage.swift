import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeScheduler
import HTTPTypes
import Hummingbird

extension Dashboard {
    /// `/periodic`: the schedule file's tasks — cron, zone, the last tick the schedulers handled (from their
    /// ``RedisLastTickStore``), the next run — and "enqueue now".
    func periodicPage(_ query: FormFields) async throws -> Page {
        let body: HTML
        switch configuration.schedule {
        case .none:
            body = "<p class=\"muted\">No schedule file given (<code>hoopoe dashboard --schedule PATH</code>).</p>"
        case .unreadable(let path, let error):
            body = "<p>The schedule file <code>\(path)</code> could not be read:</p><pre>\(error)</pre>"
        case .file(let path, let tasks):
            let now = Date()
            var rows: [HTML] = []
            for task in tasks {
                let last = try await lastTicks.lastTick(of: task)
                let next = task.enabled ? task.nextTick(after: now).map { Clock.inZone($0.timeIntervalSince1970, task.timeZone) } ?? "never" : "- (disabled)"
                rows.append(
                    """
                    <tr><td>\(task.name)</td><td><code>\(task.cron.description)</code></td><td>\(task.timeZone.identifier)</td>\
                    <td>\(task.type)</td><td>\(task.queue)</td><td>\(last.map { Clock.inZone($0.timeIntervalSince1970, task.timeZone) } ?? "never")</td>\
                    <td>\(next)</td><td>\(button("Enqueue now", action: "/periodic/enqueue", fields: [("task", task.name)]))</td></tr>
                    """)
            }
            body = """
                <p class="muted">From <code>\(path)</code>. "Last tick" is the latest tick the schedulers handled: enqueued, or passed over (by <code>catch_up: skip</code>, or while the task was disabled); times are in each task's zone.</p>
                <table class="periodic"><thead><tr><th>Task</th><th>Cron</th><th>Zone</th><th>Type</th><th>Queue</th><th>Last tick</th>\
                <th>Next run</th><th></th></tr></thead><tbody>\(rows)</tbody></table>
                """
        }
        return Page(title: "Periodic tasks", path: "/periodic", readOnly: configuration.readOnly, body: body)
    }

    /// POST `/periodic/enqueue` (task): enqueues the task's job now, its payload plus `tick` = now, as a scheduler
    /// tick would; the scheduled ticks go on as before.
    func periodicEnqueue(_ form: FormFields) async throws -> Response {
        guard case .file(_, let tasks) = configuration.schedule, let name = form["task"], let task = tasks.first(where: { $0.name == name }) else {
            return Page.plain(.notFound, "no such periodic task\n")
        }
        let tick = Int64(Date().timeIntervalSince1970.rounded(.down))
        let result = try await jobs.enqueue(
            type: task.type, payload: task.jobPayload(namespace: jobs.namespace, tick: tick), options: EnqueueOptions(queue: task.queue))
        let notice = result.createdID.map { "Enqueued \(task.name) now as job \($0)." } ?? "\(task.name) was not enqueued (refused as a duplicate)."
        return Page.after("/periodic", notice: notice)
    }
}
