import ArgumentParser
import HoopoeCore
import HoopoeJSON

/// `hoopoe queues`: the numbers of every queue and the processes serving them, at a glance.
struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Show every queue's depth, latency and today's counts, then live workers and schedulers.",
        discussion: """
            Per queue: READY (waiting for a worker), IN FLIGHT (held by workers), SCHEDULED (delayed jobs and \
            retries), DEAD, LATENCY (how long the oldest ready job has waited) and PROCESSED/FAILED today (UTC day). \
            Then every worker with a live heartbeat (id, host, pid, busy/concurrency, queues, last beat) and every \
            scheduler. A process that stopped beating for 15 s is gone from the list.

            --json prints {"queues": [{"name", "ready", "in_flight", "scheduled", "dead", "latency_seconds", \
            "processed_today", "failed_today"}], "workers": [{"id", "host", "pid", "busy", "concurrency", "queues", \
            "beat_age_seconds"}], "schedulers": [{"id", "host", "pid", "tasks", "beat_age_seconds"}]}.
            Exit 0, or 2 when Redis is unreachable.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func run() async throws {
        let (rows, processes) = try await options.withJobQueue { jobs in
            var rows: [(QueueInfo, [String: Int])] = []
            for queue in try await jobs.knownQueues() {
                rows.append((try await jobs.info(queue: queue), try await jobs.counters(queue: queue)))
            }
            return (rows, try await jobs.liveProcesses().sorted { $0.id < $1.id })
        }
        let workers = processes.filter { $0.kind == "worker" }
        let schedulers = processes.filter { $0.kind == "scheduler" }
        if json {
            printJSON(.object([
                "queues": .array(rows.map { info, counts in
                    .object([
                        "name": .string(info.queue), "ready": .integer(Int64(info.ready)), "in_flight": .integer(Int64(info.inFlight)),
                        "scheduled": .integer(Int64(info.scheduled)), "dead": .integer(Int64(info.dead)), "latency_seconds": .double(info.latency),
                        "processed_today": .integer(Int64(counts["processed"] ?? 0)), "failed_today": .integer(Int64(counts["failed"] ?? 0)),
                    ])
                }),
                "workers": .array(workers.map { worker in
                    .object([
                        "id": .string(worker.id), "host": .string(worker.fields["host"] ?? ""), "pid": integer(worker.fields["pid"]),
                        "busy": integer(worker.fields["busy"]), "concurrency": integer(worker.fields["concurrency"]),
                        "queues": .array((worker.fields["queues"] ?? "").split(separator: ",").map { .string(String($0)) }),
                        "beat_age_seconds": .double((worker.age * 100).rounded() / 100),
                    ])
                }),
                "schedulers": .array(schedulers.map { scheduler in
                    .object([
                        "id": .string(scheduler.id), "host": .string(scheduler.fields["host"] ?? ""), "pid": integer(scheduler.fields["pid"]),
                        "tasks": integer(scheduler.fields["tasks"]), "beat_age_seconds": .double((scheduler.age * 100).rounded() / 100),
                    ])
                }),
            ]))
            return
        }
        var queues = TextTable("QUEUE", "READY", "IN FLIGHT", "SCHEDULED", "DEAD", "LATENCY", "PROCESSED TODAY", "FAILED TODAY")
        for (info, counts) in rows {
            queues.add(
                info.queue, "\(info.ready)", "\(info.inFlight)", "\(info.scheduled)", "\(info.dead)", TimeText.span(info.latency),
                "\(counts["processed"] ?? 0)", "\(counts["failed"] ?? 0)")
        }
        print(rows.isEmpty ? "No queues yet." : queues.text)
        print("")
        var workerTable = TextTable("WORKER", "HOST", "PID", "BUSY", "QUEUES", "LAST BEAT")
        for worker in workers {
            workerTable.add(
                worker.id, worker.fields["host"] ?? "?", worker.fields["pid"] ?? "?",
                "\(worker.fields["busy"] ?? "?")/\(worker.fields["concurrency"] ?? "?")", worker.fields["queues"] ?? "",
                TimeText.span(worker.age) + " ago")
        }
        print(workers.isEmpty ? "No live workers." : workerTable.text)
        print("")
        var schedulerTable = TextTable("SCHEDULER", "HOST", "PID", "TASKS", "LAST BEAT")
        for scheduler in schedulers {
            schedulerTable.add(
                scheduler.id, scheduler.fields["host"] ?? "?", scheduler.fields["pid"] ?? "?", scheduler.fields["tasks"] ?? "?",
                TimeText.span(scheduler.age) + " ago")
        }
        print(schedulers.isEmpty ? "No live schedulers." : schedulerTable.text)
    }

    private func integer(_ text: String?) -> JSONValue {
        text.flatMap { Int64($0) }.map(JSONValue.integer) ?? .null
    }
}
