extension HealthCheck {
    /// Every known queue's numbers, in name order.
    func queueInfos() async throws -> [QueueInfo] {
        var infos: [QueueInfo] = []
        for queue in try await jobs.knownQueues() { infos.append(try await jobs.info(queue: queue)) }
        return infos
    }

    /// `queue:<name>` per queue: fails when the oldest ready job has waited longer than
    /// ``HealthCheckOptions/maxLatency``. Latency, not depth, is what users feel: a deep queue that
    /// drains fast is fine, a short one nobody reads is not.
    func latency(_ infos: [QueueInfo]) -> [HealthFinding] {
        let limit = options.maxLatency.seconds
        return infos.map { info in
            let numbers: [String: Double] = [
                "latency_seconds": rounded2(info.latency), "max_latency_seconds": limit, "ready": Double(info.ready),
                "in_flight": Double(info.inFlight), "scheduled": Double(info.scheduled), "dead": Double(info.dead),
            ]
            let counts = "\(info.ready) ready, \(info.inFlight) in flight"
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
        value < 10 ? "\(rounded2(value)) s" : "\(Int(value.rounded())) s"
    }
}
