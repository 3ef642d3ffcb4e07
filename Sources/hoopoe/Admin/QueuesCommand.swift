import ArgumentParser
import Foundation
import HoopoeCore
import HoopoeJSON
import Redis

/// `hoopoe queues`: the numbers of every queue and the processes serving them, at a glance; `--watch` redraws them.
struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Show every queue's depth, latency and today's counts, then live workers and schedulers.",
        discussion: """
            Per queue: READY (waiting for a worker), IN FLIGHT (held by workers), SCHEDULED (delayed jobs and \
            retries), DEAD, LATENCY (how long the oldest ready job has waited), PAUSED (`yes (5m)` since a \
            `hoopoe queue pause`, else `no`) and PROCESSED/FAILED today (UTC day). A queue whose keys were written \
            under a name no queue may have (a raw XADD) is listed with its name cut to 40 characters and a note saying \
            why: no worker serves it and no command acts on it. Then every worker with a live \
            heartbeat (id, host, pid, busy/concurrency, how long its longest job has run so far as its last beat \
            lists it, queues, state, last beat) and every scheduler. STATE is `running`, or `quiet` after SIGTSTP \
            (it fetches nothing new, so it serves none of its queues), `draining` or `stopping` while it stops; \
            `running` for a worker of an older release. A process that stopped beating for 15 s is gone from \
            the list.

            Last, the Redis topology: the server (or the primary the sentinels name, or every cluster primary) with \
            its address, slots (cluster), whether it answered, its role and its replicas in sync with their lag, \
            from INFO replication on each primary ("topology" in --json, as in `hoopoe health-check --json`).

            --watch redraws the report every --interval seconds (default 2) until Ctrl-C or SIGTERM (exit 0): on a \
            terminal the screen is cleared first; otherwise each report is printed after the last, each starting \
            with a line `hoopoe queues at <time>`. With --json, one JSON document a line per interval.

            --json prints {"queues": [{"name", "ready", "in_flight", "scheduled", "dead", "latency_seconds", \
            "paused", "paused_at", "processed_today", "failed_today"}], "workers": [{"id", "host", "pid", "busy", \
            "concurrency", "longest_run_seconds", "queues", "state", "beat_age_seconds"}], "schedulers": [{"id", "host", "pid", "tasks", \
            "beat_age_seconds"}]} ("paused" true or false, "paused_at" ISO 8601 or null; a queue's "name_problem" \
            says why its name is no queue's, null for a valid one; \
            "longest_run_seconds" null when the worker runs nothing or does not list its runs), and \
            "unreadable_queues": [{"name", "error"}], the queues whose numbers Redis refused to read.

            A queue whose keys Redis refuses to read (a key of another type, `WRONGTYPE`, named with its queue; an \
            ACL) is listed under the table with the reason; the other queues are shown as usual.
            Exit 0; 1 when a queue could not be read (the rest is printed); 2 when Redis is unreachable (with \
            --watch: at start; later failures are shown and retried).
            """
    )

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @Flag(help: "Redraw every --interval seconds until Ctrl-C.")
    var watch = false

    @Option(
        name: .customLong("interval"), help: ArgumentHelp("Seconds between two redraws with --watch (0.2 to 3600; default 2).", valueName: "seconds"),
        transform: DurationText.seconds)
    var intervalOption: Double?

    /// Seconds between two redraws.
    var interval: Double { intervalOption ?? 2 }

    /// `--interval` alone once printed one report and ended, as if the flag had not been given: a script waiting for a
    /// stream of reports got one. It is a usage error (64) without `--watch`.
    func validate() throws {
        guard let intervalOption else { return }
        guard watch else { throw ValidationError("--interval applies to --watch: add --watch to redraw every \(TimeText.span(intervalOption))") }
        guard intervalOption >= 0.2 && intervalOption <= 3600 else { throw ValidationError("--interval must be 0.2 to 3600 seconds (got \(intervalOption))") }
    }

    func run() async throws {
        if watch {
            try await watchReports()
            return
        }
        let (output, unreadable) = try await options.withJobQueue { jobs in
            let report = try await Report(jobs: jobs)
            return (text(report), !report.unreadable.isEmpty)
        }
        print(output)
        // Every readable queue printed, then the failure said by the exit code: a script must not read the table as whole.
        if unreadable { throw ExitCode(1) }
    }

    /// The report as printed: JSON, or the three tables.
    private func text(_ report: Report) -> String {
        json ? jsonValue(report).text : tables(report)
    }

    /// Prints a report every ``interval`` until SIGINT or SIGTERM. One client for the whole watch; a failed read
    /// after the first is shown in place of the report and tried again next time.
    private func watchReports() async throws {
        let signals = SignalStream([SIGINT, SIGTERM])
        let terminal = isatty(STDOUT_FILENO) == 1
        try await options.withJobQueue { jobs in
            // The first read decides the exit code for an unreachable Redis, as without --watch.
            let firstFrame = text(try await Report(jobs: jobs))
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    var frame = firstFrame
                    var first = true
                    while !Task.isCancelled {
                        if !first {
                            do {
                                // The queue list as last scanned (kept 30 s, then scanned again by whoever reads):
                                // a scan of the whole keyspace on every redraw would cost Redis more than the report.
                                frame = text(try await Report(jobs: jobs, rescan: false))
                            } catch {
                                // A refusal is said as such (an ACL, CLUSTERDOWN), not as silence; with --json, as a JSON
                                // document like every other line (a plain line broke the stream's readers).
                                let problem = (error as? RedisError)?.operatorLine ?? "\(error)"
                                frame = json
                                    ? String(decoding: JSONValue.object([
                                        "error": .string(problem), "at": .string(TimeText.iso(Date().timeIntervalSince1970)),
                                    ]).encoded(), as: UTF8.self)
                                    : "\(problem); trying again in \(TimeText.span(interval))"
                            }
                        }
                        first = false
                        let header = json ? "" : "hoopoe queues at \(TimeText.iso(Date().timeIntervalSince1970)) (every \(TimeText.span(interval)); Ctrl-C to stop)\n\n"
                        // Written straight to the descriptor: print's buffer would hold a piped report back.
                        let output = (terminal ? "\u{1B}[H\u{1B}[2J" : "") + header + frame + (terminal || json ? "\n" : "\n\n")
                        FileHandle.standardOutput.write(Data(output.utf8))
                        try? await Task.sleep(for: .seconds(interval))
                    }
                }
                group.addTask {
                    for await _ in signals.signals { return }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    private func tables(_ report: Report) -> String {
        var queues = TextTable("QUEUE", "READY", "IN FLIGHT", "SCHEDULED", "DEAD", "LATENCY", "PAUSED", "PROCESSED TODAY", "FAILED TODAY")
        for (info, counts) in report.queues {
            let paused = report.paused[info.queue].map { "yes (\(TimeText.span(max(0, Date().timeIntervalSince($0)))))" } ?? "no"
            queues.add(
                Self.shownName(info.queue), "\(info.ready)", "\(info.inFlight)", "\(info.scheduled)", "\(info.dead)", TimeText.span(info.latency), paused,
                "\(counts["processed"] ?? 0)", "\(counts["failed"] ?? 0)")
        }
        var workerTable = TextTable("WORKER", "HOST", "PID", "BUSY", "LONGEST RUN", "QUEUES", "STATE", "LAST BEAT")
        for worker in report.workers {
            workerTable.add(
                worker.id, worker.fields["host"] ?? "?", worker.fields["pid"] ?? "?",
                "\(worker.fields["busy"] ?? "?")/\(worker.fields["concurrency"] ?? "?")", worker.longestRun.map(TimeText.span) ?? "-",
                worker.fields["queues"] ?? "", Self.state(worker),
                TimeText.span(worker.age) + " ago")
        }
        var schedulerTable = TextTable("SCHEDULER", "HOST", "PID", "TASKS", "LAST BEAT")
        for scheduler in report.schedulers {
            schedulerTable.add(
                scheduler.id, scheduler.fields["host"] ?? "?", scheduler.fields["pid"] ?? "?", scheduler.fields["tasks"] ?? "?",
                TimeText.span(scheduler.age) + " ago")
        }
        // Said under the table, not in it: the reason quotes the name and would widen every row.
        let invalid = report.queues.compactMap { info, _ in
            EnvelopeRules.queueProblem(info.queue).map { "\(Self.shownName(info.queue)): not a queue name (it \(PrintableText.oneLine($0)))" }
        }
        let invalidNote = invalid.isEmpty ? "" : "\n\n" + invalid.joined(separator: "\n")
            + "\nKeys written by hand under such a name: no worker can serve it, and no hoopoe command acts on it."
        // A queue Redis refused to read, under the table with its reason (a `WRONGTYPE` names its key).
        let unreadable = report.unreadable.map { "queue \($0.queue) cannot be read: \($0.problem)" }.joined(separator: "\n")
        let queueText = report.queues.isEmpty ? (unreadable.isEmpty ? "No queues yet." : "") : queues.text + invalidNote
        return [
            queueText + (unreadable.isEmpty ? "" : (queueText.isEmpty ? "" : "\n\n") + unreadable),
            report.workers.isEmpty ? "No live workers." : workerTable.text,
            report.schedulers.isEmpty ? "No live schedulers." : schedulerTable.text,
            report.topology.map(TopologyText.table) ?? "Redis: topology not read.",
        ].joined(separator: "\n\n")
    }

    private func jsonValue(_ report: Report) -> JSONValue {
        .object([
            "queues": .array(report.queues.map { info, counts in
                .object([
                    "name": .string(info.queue), "ready": .integer(Int64(info.ready)), "in_flight": .integer(Int64(info.inFlight)),
                    "scheduled": .integer(Int64(info.scheduled)), "dead": .integer(Int64(info.dead)), "latency_seconds": .double(info.latency),
                    "paused": .bool(report.paused[info.queue] != nil),
                    "paused_at": report.paused[info.queue].map { .string(TimeText.iso($0.timeIntervalSince1970)) } ?? .null,
                    "processed_today": .integer(Int64(counts["processed"] ?? 0)), "failed_today": .integer(Int64(counts["failed"] ?? 0)),
                    "name_problem": EnvelopeRules.queueProblem(info.queue).map(JSONValue.string) ?? .null,
                ])
            }),
            "workers": .array(report.workers.map { worker in
                .object([
                    "id": .string(worker.id), "host": .string(worker.fields["host"] ?? ""), "pid": integer(worker.fields["pid"]),
                    "busy": integer(worker.fields["busy"]), "concurrency": integer(worker.fields["concurrency"]),
                    "longest_run_seconds": worker.longestRun.map { .double(($0 * 100).rounded() / 100) } ?? .null,
                    "queues": .array((worker.fields["queues"] ?? "").split(separator: ",").map { .string(String($0)) }),
                    "state": .string(Self.state(worker)), "beat_age_seconds": .double((worker.age * 100).rounded() / 100),
                ])
            }),
            "schedulers": .array(report.schedulers.map { scheduler in
                .object([
                    "id": .string(scheduler.id), "host": .string(scheduler.fields["host"] ?? ""), "pid": integer(scheduler.fields["pid"]),
                    "tasks": integer(scheduler.fields["tasks"]), "beat_age_seconds": .double((scheduler.age * 100).rounded() / 100),
                ])
            }),
            "topology": report.topology?.json ?? .null,
            "unreadable_queues": .array(report.unreadable.map { .object(["name": .string($0.queue), "error": .string($0.problem)]) }),
        ])
    }

    /// A queue's name as the table shows it: on one line, cut to 40 characters (a name written by hand may be 3,000).
    private static func shownName(_ name: String) -> String {
        let scalars = name.unicodeScalars
        return PrintableText.oneLine(scalars.count <= 40 ? name : String(String.UnicodeScalarView(scalars.prefix(40))) + "…")
    }

    /// A worker's state as its heartbeat says (``ProcessRecord/workerState``): `running` for a record without it (a
    /// worker of an older release fetches), `?` for a state this release does not know.
    private static func state(_ worker: ProcessRecord) -> String {
        guard worker.fields[ProcessRecord.stateField] != nil else { return WorkerState.running.description }
        return worker.workerState?.description ?? "?"
    }

    private func integer(_ text: String?) -> JSONValue {
        text.flatMap { Int64($0) }.map(JSONValue.integer) ?? .null
    }

    /// What one report shows, read from Redis.
    private struct Report {
        var queues: [(QueueInfo, [String: Int])] = []
        /// Queues whose keys Redis refused to read (``RedisError/refusesQueueRead``), with the reason: one such queue
        /// failed the whole report.
        var unreadable: [(queue: String, problem: String)] = []
        var paused: [String: Date]
        var workers: [ProcessRecord]
        var schedulers: [ProcessRecord]
        /// What Redis was read (TopologyText), nil when it could not be.
        var topology: TopologyReport?

        /// - Parameter rescan: whether to scan the keys for queues (the first report) or take the list a scan kept up
        ///   to 30 s ago (the redraws of `--watch`; ``JobQueue/knownQueues(rescan:)``).
        init(jobs: JobQueue, rescan: Bool = true) async throws {
            for queue in try await jobs.knownQueues(rescan: rescan) {
                do {
                    queues.append((try await jobs.info(queue: queue), try await jobs.counters(queue: queue)))
                } catch let error as RedisError where error.refusesQueueRead {
                    unreadable.append((queue, error.operatorLine))
                }
            }
            paused = try await jobs.pausedQueues()
            let processes = try await jobs.liveProcesses().sorted { $0.id < $1.id }
            workers = processes.filter { $0.kind == "worker" }
            schedulers = processes.filter { $0.kind == "scheduler" }
            topology = await TopologyText.read(jobs)
        }
    }
}
