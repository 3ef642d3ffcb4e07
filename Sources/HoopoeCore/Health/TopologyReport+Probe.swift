import Redis

extension TopologyReport {
    /// Reads the topology through `redis`: `INFO replication` on the one server, on the primary the sentinels name,
    /// or on every cluster primary at once (the slot map asked of the cluster first).
    ///
    /// A cluster primary that does not answer is reported, not thrown: that is what the report is for. One server
    /// or the Sentinel primary not answering throws (the health check then ends as unreachable, exit 2).
    /// - Throws: ``RedisError`` when the one server, the sentinels or every cluster node are unreachable.
    public static func probe(_ redis: RedisClient) async throws -> TopologyReport {
        switch redis.configuration.topology {
        case .cluster:
            guard let map = try await redis.clusterSlotMap() else { return TopologyReport(kind: .cluster, primaries: []) }
            var primaries = try await withThrowingTaskGroup(of: (Int, Primary).self) { group in
                for (index, node) in map.primaries.enumerated() {
                    group.addTask {
                        do {
                            let reply = try await redis.send([RedisCommand("INFO", "replication")], to: node)[0]
                            return (index, read(reply, address: node.description, slots: map.slotCount(of: node)))
                        } catch let error as RedisError where error.isUnreachable {
                            return (index, Primary(address: node.description, reachable: false, role: nil, slots: map.slotCount(of: node), replicas: [], problem: error.message))
                        }
                    }
                }
                var answers = [Primary?](repeating: nil, count: map.primaries.count)
                for try await (index, primary) in group { answers[index] = primary }
                return answers.compactMap { $0 }
            }
            // A failed primary whose slots a replica took serves nothing: not a primary, and nothing fails for it (it
            // stays listed, failed, until it comes back as a replica or is forgotten). Counted as a primary, it failed
            // the health check, exit 1, after a failover that had worked, all 16384 slots served.
            var failedOver: [String] = []
            for failed in map.failedPrimaries where !map.primaries.contains(failed) {
                guard map.slotsHeld(byFailed: failed) > 0 else {
                    failedOver.append(failed.description)
                    continue
                }
                primaries.append(Primary(address: failed.description, reachable: false, role: nil, slots: 0, replicas: [], problem: "the cluster marks it failed"))
            }
            return TopologyReport(
                kind: .cluster, primaries: primaries, unservedSlots: HashSlot.count - map.coveredSlots, requiredReplicas: redis.configuration.waitReplicas,
                failedNodes: failedOver)
        case .sentinel(let settings):
            let sentinels = try await redis.sentinelView()
            let reply = try await redis.send("INFO", "replication")
            return TopologyReport(
                kind: .sentinel, primaries: [read(reply, address: sentinels?.primary.description ?? "?", slots: nil)], masterName: settings.masterName,
                requiredReplicas: redis.configuration.waitReplicas, sentinels: sentinels)
        case .standalone:
            let reply = try await redis.send("INFO", "replication")
            return TopologyReport(
                kind: .standalone, primaries: [read(reply, address: redis.configuration.endpoint.description, slots: nil)],
                requiredReplicas: redis.configuration.waitReplicas)
        }
    }

    /// A primary from its `INFO replication` reply (`role:master`, `slave0:ip=…,port=…,state=online,offset=…,lag=0`,
    /// `master_repl_offset:…`). A refused `INFO` (an ACL without `+info`) is a reachable primary with a problem.
    static func read(_ reply: RedisReply, address: String, slots: Int?) -> Primary {
        if let message = reply.errorMessage {
            let refused = message.hasPrefix("NOPERM") ? "INFO refused by the ACL: grant +info to see replicas" : "INFO replication answered: \(message)"
            return Primary(address: address, reachable: true, role: nil, slots: slots, replicas: [], problem: refused)
        }
        let fields = HealthCheck.infoFields(reply.string ?? "")
        let offset = fields["master_repl_offset"].flatMap { Int($0) }
        var replicas: [Replica] = []
        for index in 0..<(fields["connected_slaves"].flatMap { Int($0) } ?? 0) {
            guard let line = fields["slave\(index)"] else { continue }
            var parts: [String: String] = [:]
            for pair in line.split(separator: ",") {
                let halves = pair.split(separator: "=", maxSplits: 1)
                if halves.count == 2 { parts[String(halves[0])] = String(halves[1]) }
            }
            let host = parts["ip"] ?? "?", port = parts["port"] ?? "?"
            let acknowledged = parts["offset"].flatMap { Int($0) }
            replicas.append(Replica(
                address: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)", state: parts["state"] ?? "?", lagSeconds: parts["lag"].flatMap { Int($0) },
                bytesBehind: offset.flatMap { total in acknowledged.map { max(0, total - $0) } }))
        }
        return Primary(address: address, reachable: true, role: fields["role"], slots: slots, replicas: replicas, problem: nil)
    }
}
