import Foundation

extension HealthCheck {
    /// How long the previous run's dead counts are kept: a namespace nobody probes forgets them.
    static let deadBaselineTTL = 30 * 86_400

    /// `dead_jobs`: how much the dead sets grew since the previous health-check run, which left its
    /// counts in ``HealthKeys/dead``. Growth warns and never fails: a dead job needs a person, not a
    /// restart. With several probes (one per pod) each reports the growth since whichever ran last.
    func deadGrowth(_ infos: [QueueInfo]) async throws -> HealthFinding {
        let store = HealthStore(redis: jobs.redis, keys: keys)
        let (at, before) = try await store.deadBaseline()
        let now = Date().timeIntervalSince1970
        try await store.saveDeadBaseline(infos.map { ($0.queue, $0.dead) }, now: now, ttl: Self.deadBaselineTTL)

        let total = infos.reduce(0) { $0 + $1.dead }
        guard let at else {
            return HealthFinding(
                name: "dead_jobs", status: .ok, message: "\(total) dead job(s); first run, baseline recorded",
                numbers: ["dead": Double(total), "growth": 0])
        }
        let grown = infos.compactMap { info -> (String, Int)? in
            let growth = info.dead.subtractingSaturated(before[info.queue] ?? 0)  // a baseline is any Int a hand-edit wrote
            return growth > 0 ? (info.queue, growth) : nil
        }
        let growth = grown.reduce(0) { $0.addingSaturated($1.1) }
        let since = rounded2(max(0, now - at))
        let numbers: [String: Double] = ["dead": Double(total), "growth": Double(growth), "since_seconds": since]
        if growth > 0 {
            let detail = grown.map { "\($0.0) +\($0.1)" }.joined(separator: ", ")
            return HealthFinding(
                name: "dead_jobs", status: .warn,
                message: "dead set grew by \(growth) since the last check \(Self.seconds(since)) ago (\(detail)); see `hoopoe dead list`", numbers: numbers)
        }
        return HealthFinding(name: "dead_jobs", status: .ok, message: "\(total) dead job(s), no growth in \(Self.seconds(since))", numbers: numbers)
    }
}
