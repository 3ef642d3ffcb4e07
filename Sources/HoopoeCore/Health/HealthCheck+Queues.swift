import Redis

extension HealthCheck {
    /// Every known queue's numbers, in name order, and a failed `queue:<name>` finding for each queue whose keys Redis
    /// refused to read (``RedisError/refusesQueueRead``: a key of another type, named with its queue; an ACL).
    /// One such queue failed the whole read: a single `queues` failure ("XLEN: WRONGTYPE", naming no queue) took the
    /// place of every queue's finding, and the dead jobs' growth went unread.
    func queueInfos() async throws -> (infos: [QueueInfo], unreadable: [HealthFinding]) {
        var infos: [QueueInfo] = []
        var unreadable: [HealthFinding] = []
        // A scan of the keyspace made in the last 30 s is reused: an orchestrator probes every few seconds.
        for queue in try await jobs.knownQueues(rescan: false) {
            do {
                infos.append(try await jobs.info(queue: queue))
            } catch let error as RedisError where error.refusesQueueRead {
                unreadable.append(HealthFinding(name: "queue:\(queue)", status: .fail, message: "cannot be read: \(error.operatorLine)"))
            }
        }
        return (infos, unreadable)
    }

    /// The paused queues' names (decision 0029); none when Redis does not answer, so every queue is then judged by
    /// its latency.
    func pausedQueueNames() async -> Set<String> {
        guard let paused = try? await jobs.pausedQueues() else { return [] }
        return Set(paused.keys)
    }

    /// `queue:<name>` per queue: fails when the oldest ready job has waited longer than
    /// ``HealthCheckOptions/maxLatency``. Latency, not depth, is what users feel: a deep queue that
    /// drains fast is fine, a short one nobody reads is not.
    ///
    /// A queue no live worker serves (by the `queues` of the workers' heartbeats, and their state: a quiet worker serves
    /// none, ``ProcessRecord/serves(_:)``) that holds jobs (ready, scheduled or retrying, or in flight with a lost
    /// worker) is a warning that says so, naming the quiet workers that list it, whatever its latency: a stray job in a
    /// forgotten queue is a configuration question for a person, and
    /// failing on it would make every healthy worker look broken.
    ///
    /// A queue in `paused` (``JobQueue/pause(queue:)``) is ok whatever its latency, and says it is paused: its jobs
    /// wait because an operator asked them to (decision 0029).
    func latency(_ infos: [QueueInfo], processes: [ProcessRecord], paused: Set<String> = []) -> [HealthFinding] {
        let limit = options.maxLatency.seconds
        let workers = fresh(processes, kind: "worker")
        return infos.map { info in
            let numbers: [String: Double] = [
                "latency_seconds": rounded2(info.latency), "max_latency_seconds": limit, "ready": Double(info.ready),
                "in_flight": Double(info.inFlight), "scheduled": Double(info.scheduled), "dead": Double(info.dead),
            ]
            let counts = "\(info.ready) ready, \(info.inFlight) in flight"
            if paused.contains(info.queue) {
                return HealthFinding(
                    name: "queue:\(info.queue)", status: .ok, message: "paused (hoopoe queue resume \(info.queue)); latency \(Self.seconds(info.latency)); \(counts)",
                    numbers: numbers.merging(["paused": 1]) { $1 })
            }
            // Scheduled (retries too) and in-flight jobs count: only a worker of the queue promotes the first and
            // recovers the second (a lost worker's), so a queue holding only those never drains either. Ready jobs
            // alone were counted: such a queue read `ok`, with its retries waiting for good.
            let held = info.ready + info.inFlight + info.scheduled
            if held > 0 && !workers.contains(where: { $0.serves(info.queue) }) {
                let waiting = held == 1 ? "1 job waiting" : "\(held) jobs waiting"
                var kinds: [String] = []
                if info.ready > 0 { kinds.append("\(info.ready) ready") }
                if info.scheduled > 0 { kinds.append("\(info.scheduled) scheduled or retrying") }
                if info.inFlight > 0 { kinds.append("\(info.inFlight) in flight") }
                let idle = ProcessRecord.notFetching(info.queue, among: workers)
                let why = ProcessRecord.notFetchingNote(idle).map { "; \($0)" } ?? ""
                return HealthFinding(
                    name: "queue:\(info.queue)", status: .warn,
                    message: "no worker serves `\(info.queue)`: \(waiting) (\(kinds.joined(separator: ", ")))\(why); "
                        + "start a worker with --queues \(info.queue), or move the jobs",
                    numbers: numbers.merging(["served": 0, "quiet_workers": Double(idle.count)]) { $1 })
            }
            if info.latency > limit {
                return HealthFinding(
                    name: "queue:\(info.queue)", status: .fail,
                    message: "oldest ready job waited \(Self.seconds(info.latency)) (limit \(Self.seconds(limit))); \(counts)", numbers: numbers)
            }
            return HealthFinding(name: "queue:\(info.queue)", status: .ok, message: "latency \(Self.seconds(info.latency)); \(counts)", numbers: numbers)
        }
    }

    /// `1.5 s`, `75 s`: seconds for messages.
    static func seconds(_ value: Double) -> String {
        value < 10 ? "\(rounded2(value)) s" : "\(wholeText(value)) s"
    }
}
