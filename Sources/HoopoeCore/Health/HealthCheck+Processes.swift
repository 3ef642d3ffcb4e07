import Foundation

extension HealthCheck {
    /// `workers`: at least one worker with a fresh heartbeat, or the one named by
    /// ``HealthCheckOptions/workerID``. Without a worker nothing runs, however healthy Redis is.
    ///
    /// A worker that fetches nothing new (quiet on SIGTSTP, or stopping: ``ProcessRecord/fetches``) is alive and
    /// counted, and named with its state, with `quiet_workers` their number: the queues it lists then warn that no
    /// worker serves them, and this line says why.
    func workers(_ processes: [ProcessRecord]) -> HealthFinding {
        let live = fresh(processes, kind: "worker")
        let idle = live.filter { !$0.fetches }.sorted { $0.id < $1.id }
        var numbers: [String: Double] = ["live_workers": Double(live.count), "quiet_workers": Double(idle.count)]
        // Summed as doubles: two hand-written records of Int.max overflowed an Int sum (a trap).
        numbers["busy"] = live.compactMap { Int($0.fields["busy"] ?? "").map(Double.init) }.reduce(0, +)
        numbers["concurrency"] = live.compactMap { Int($0.fields["concurrency"] ?? "").map(Double.init) }.reduce(0, +)
        if let id = options.workerID {
            guard let worker = live.first(where: { $0.id == id }) else {
                let others = live.isEmpty ? "no live workers" : "live: " + live.map(\.id).joined(separator: ", ")
                return HealthFinding(name: "workers", status: .fail, message: "worker \(id) has no fresh heartbeat (\(others))", numbers: numbers)
            }
            numbers["beat_age_seconds"] = rounded2(worker.age)
            let state = worker.fetches ? "" : ", \(worker.workerState?.description ?? "?"): fetching nothing new"
            return HealthFinding(
                name: "workers", status: .ok,
                message: "worker \(id) alive, last beat \(rounded2(worker.age)) s ago, busy \(worker.fields["busy"] ?? "?")\(state)",
                numbers: numbers)
        }
        guard !live.isEmpty else {
            return HealthFinding(name: "workers", status: .fail, message: "no live worker: nothing runs jobs (start `hoopoe worker`)", numbers: numbers)
        }
        numbers["beat_age_seconds"] = rounded2(live.map(\.age).max() ?? 0)
        let shown = idle.prefix(3)
        let quiet =
            idle.isEmpty
            ? "" : "; \(idle.count) fetching nothing new: \(ProcessRecord.namedWithState(Array(shown)))\(idle.count > shown.count ? ", ..." : "")"
        // Every one quiet (a worker run in a terminal gets SIGTSTP from Ctrl-Z): alive, but no new job runs, and with
        // empty queues no queue's finding would say so. A warning, not a failure: a rolling restart passes through it.
        let none = idle.count == live.count ? "; none fetches new jobs: a job enqueued now waits until a worker is started (a quiet one stays quiet)" : ""
        return HealthFinding(
            name: "workers", status: none.isEmpty ? .ok : .warn,
            message: "\(live.count) live worker(s), \(wholeText(numbers["busy"] ?? 0))/\(wholeText(numbers["concurrency"] ?? 0)) busy\(quiet)\(none)",
            numbers: numbers)
    }

    /// `scheduler`: when the schedule file exists and has enabled tasks, a scheduler with a fresh heartbeat, and every
    /// enabled task handled on time: its next tick not due for longer than the schedulers' grace period, and every
    /// task known to a scheduler that has run longer than that. nil when no schedule file is configured (the check
    /// does not apply).
    func scheduler(_ processes: [ProcessRecord]) async throws -> HealthFinding? {
        guard let schedule = options.scheduleFile else { return nil }
        let url = schedule.url
        guard FileManager.default.fileExists(atPath: url.path) else {
            if schedule.named {
                return HealthFinding(
                    name: "scheduler", status: .fail, message: "no schedule file at \(url.path) (--schedule): cannot tell which tasks must run")
            }
            return HealthFinding(
                name: "scheduler", status: .ok,
                message: "no schedule file at \(url.path) (the default, relative to the working directory): no scheduler needed; --schedule names another")
        }
        let tasks: Int
        do {
            tasks = try schedule.enabledTasks()
        } catch {
            return HealthFinding(
                name: "scheduler", status: .fail, message: "the schedule cannot be loaded, so no scheduler can start: \(Self.oneLine(scheduleError: error))")
        }
        let live = fresh(processes, kind: "scheduler")
        var numbers: [String: Double] = ["enabled_tasks": Double(tasks), "live_schedulers": Double(live.count)]
        if tasks == 0 {
            return HealthFinding(name: "scheduler", status: .ok, message: "no enabled tasks in \(url.path): no scheduler needed", numbers: numbers)
        }
        guard let newest = live.min(by: { $0.age < $1.age }) else {
            return HealthFinding(
                name: "scheduler", status: .fail,
                message: "\(tasks) enabled task(s) in \(url.path) but no live scheduler (start `hoopoe scheduler`)", numbers: numbers)
        }
        let alive = "\(live.count) live scheduler(s) for \(tasks) enabled task(s), last beat \(rounded2(newest.age)) s ago"
        guard let read = schedule.progress else {
            return HealthFinding(name: "scheduler", status: .ok, message: alive, numbers: numbers)
        }
        let progress = try await read()
        let late = progress.late
        // A task no scheduler has handled is a problem only once some scheduler has had time to plan it: each handles
        // every task it knows at its first wake-up, so after the grace period the live ones do not know this task.
        let longestUp = live.compactMap(\.up).max() ?? 0
        let unknown = longestUp > progress.lateAfter ? progress.neverHandled : []
        numbers["late_tasks"] = Double(late.count)
        numbers["unhandled_tasks"] = Double(unknown.count)
        numbers["most_late_seconds"] = rounded2(late.map(\.seconds).max() ?? 0)
        var problems: [String] = []
        if !late.isEmpty {
            let named = late.sorted { $0.seconds > $1.seconds }.prefix(3).map { "\($0.task.name) (\(wholeText($0.seconds.rounded(.towardZero))) s)" }
            problems.append(
                "\(late.count) task(s) with a tick unhandled past the \(wholeText(progress.lateAfter.rounded(.towardZero))) s grace period: "
                    + named.joined(separator: ", ") + (late.count > 3 ? ", ..." : "") + " (see the schedulers' logs)")
        }
        if !unknown.isEmpty {
            let named = unknown.prefix(3).map(\.name).joined(separator: ", ") + (unknown.count > 3 ? ", ..." : "")
            problems.append(
                "\(unknown.count) task(s) never handled by a scheduler: \(named) (a scheduler reads its file at start: restart them after editing it)")
        }
        guard problems.isEmpty else {
            return HealthFinding(name: "scheduler", status: .fail, message: alive + "; " + problems.joined(separator: "; "), numbers: numbers)
        }
        return HealthFinding(name: "scheduler", status: .ok, message: alive + ", every task on time", numbers: numbers)
    }

    /// Most problems of a schedule file ``oneLine(scheduleError:)`` names; `hoopoe schedule list` names them all.
    static let scheduleProblemsShown = 5

    /// A schedule file's error on one line: its first line (`<file>: 2 problems, the scheduler cannot start`), then
    /// each problem (`line 3: task "t1": cron: …`), `; ` between them. The first line alone said that something was
    /// wrong and not what: a bad cron, a directory where the file should be. Masked, as every output is (a problem
    /// may quote a payload's value).
    static func oneLine(scheduleError error: any Error) -> String {
        let lines = "\(error)".split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let head = lines.first else { return PersonalDataMask.mask("\(error)") }
        let problems = lines.dropFirst()
        var shown = Array(problems.prefix(scheduleProblemsShown))
        if problems.count > scheduleProblemsShown {
            shown.append("and \(problems.count - scheduleProblemsShown) more (`hoopoe schedule list` names them all)")
        }
        return PersonalDataMask.mask(([head] + shown).joined(separator: "; "))
    }

    /// Processes of `kind` whose last beat is recent enough to count.
    func fresh(_ processes: [ProcessRecord], kind: String) -> [ProcessRecord] {
        processes.filter { $0.kind == kind && $0.age <= options.heartbeatMaxAge.seconds }
    }
}

extension HealthCheck {
    /// `process` (liveness): the process named by ``HealthCheckOptions/workerID``, or any Hoopoe process (worker or
    /// scheduler) of ``HealthCheckOptions/host``, has a fresh heartbeat. The heartbeat runs beside the jobs (a worker's
    /// on a thread and a connection of its own, decision 0073), so only a process that stopped as a whole (killed,
    /// frozen) or cannot write to Redis stops beating and fails here. A worker whose fetch loop or handlers are wedged
    /// keeps beating and passes (the deployment check's queue latency sees it); one that merely has nothing to do, or
    /// serves a slow queue, passes too.
    func alive(_ processes: [ProcessRecord]) -> HealthFinding {
        let maxAge = options.heartbeatMaxAge.seconds
        let candidates: [ProcessRecord]
        let who: String
        if let id = options.workerID {
            candidates = processes.filter { $0.id == id }
            who = "process \(id)"
        } else {
            candidates = processes.filter { $0.fields["host"] == options.host }
            who = "no Hoopoe process on host \(options.host)"
        }
        guard let newest = candidates.min(by: { $0.age < $1.age }) else {
            let message = options.workerID == nil ? "\(who) has a heartbeat" : "\(who) has no heartbeat"
            return HealthFinding(name: "process", status: .fail, message: message + " (stopped, or never started)")
        }
        let numbers = ["beat_age_seconds": rounded2(newest.age), "max_age_seconds": maxAge]
        guard newest.age <= maxAge else {
            return HealthFinding(
                name: "process", status: .fail,
                message: "\(newest.kind) \(newest.id) last beat \(rounded2(newest.age)) s ago (limit \(rounded2(maxAge)) s): stuck or cut off from Redis",
                numbers: numbers)
        }
        return HealthFinding(
            name: "process", status: .ok, message: "\(newest.kind) \(newest.id) alive, last beat \(rounded2(newest.age)) s ago", numbers: numbers)
    }
}
