import Foundation
import Redis

extension HealthCheck {
    /// How long the previous run's dead counts are kept: a namespace nobody probes forgets them.
    static let deadBaselineTTL = 30 * 86_400

    /// `dead_jobs`: how many jobs were put in the dead sets since the previous health-check run, which left its
    /// counts in ``HealthKeys/dead``. Growth warns and never fails: a dead job needs a person, not a
    /// restart. With several probes (one per pod) each reports the growth since whichever ran last.
    ///
    /// Counted from the burials the kill script counts (``JobStore/deathCounts(queue:days:)``), not from the dead sets'
    /// sizes: the script trims a set to its cap (10,000) with every burial, so a full set said "no growth" however many
    /// jobs died, and a `dead retry` or `delete` between two runs hid as many deaths. The counters are per UTC day (by
    /// the burying worker's clock), so the baseline keeps the counts of yesterday, today and tomorrow at its time, and
    /// the next run subtracts them from the same days read again, plus every day since: exact, with clocks a day apart.
    ///
    /// A queue the previous run did not read (new since, or its keys gone then) counts every burial of the days read,
    /// some perhaps from before that run: reported once, then in the baseline.
    ///
    /// A Redis that refuses writes (``RedisError/refusesWrites``) is the `redis` check's failure; here the growth is
    /// still read and reported, and the message says the baseline could not be recorded.
    func deadGrowth(_ infos: [QueueInfo]) async throws -> HealthFinding {
        let store = HealthStore(redis: jobs.redis, keys: keys)
        let baseline = try await store.deadBaseline()
        let now = Date().timeIntervalSince1970
        let days = Self.deathDays(baseline: baseline, now: now)  // ending with yesterday, today and tomorrow
        var burials: [String: [Int]] = [:]
        for info in infos {
            burials[info.queue] = try await jobs.store.deathCounts(queue: info.queue, days: days)
        }
        // The three days the next run subtracts: the last three read.
        let kept = Array(days.suffix(3))
        let notSaved: String?
        do {
            try await store.saveDeadBaseline(
                infos.map { ($0.queue, $0.dead, Array((burials[$0.queue] ?? []).suffix(3))) }, days: kept, now: now, ttl: Self.deadBaselineTTL)
            notSaved = nil
        } catch let error as RedisError where error.refusesWrites {
            notSaved = "; could not record this run's baseline: Redis refuses writes (see `redis`)"
        }

        let total = infos.reduce(0) { $0.addingSaturated($1.dead) }
        guard let at = baseline.at else {
            return HealthFinding(
                name: "dead_jobs", status: .ok, message: "\(total) dead job(s); first run\(notSaved ?? ", baseline recorded")",
                numbers: ["dead": Double(total), "growth": 0])
        }
        let since = rounded2(max(0, now - at))
        guard !baseline.days.isEmpty else {
            return HealthFinding(
                name: "dead_jobs", status: .ok,
                message: "\(total) dead job(s); the previous baseline (of an older release) counted no burials, so growth is measured from this run on\(notSaved ?? "")",
                numbers: ["dead": Double(total), "growth": 0, "since_seconds": since])
        }
        let grown = infos.compactMap { info -> (String, Int)? in
            let counts = burials[info.queue] ?? []
            let before = baseline.burials[info.queue] ?? []
            var growth = 0
            for (index, day) in days.enumerated() {
                let was = baseline.days.firstIndex(of: day).flatMap { before.indices.contains($0) ? before[$0] : nil } ?? 0
                // Counters are any Int a hand-edit wrote: saturated, and never below 0 a day (a counter deleted).
                growth = growth.addingSaturated(max(0, counts[index].subtractingSaturated(was)))
            }
            return growth > 0 ? (info.queue, growth) : nil
        }
        let growth = grown.reduce(0) { $0.addingSaturated($1.1) }
        let numbers: [String: Double] = ["dead": Double(total), "growth": Double(growth), "since_seconds": since]
        if growth > 0 {
            let detail = grown.map { "\($0.0) +\($0.1)" }.joined(separator: ", ")
            return HealthFinding(
                name: "dead_jobs", status: .warn,
                message: "\(growth) job(s) put in the dead set since the last check \(Self.seconds(since)) ago (\(detail)), \(total) dead now; "
                    + "see `hoopoe dead list`\(notSaved ?? "")",
                numbers: numbers)
        }
        return HealthFinding(
            name: "dead_jobs", status: .ok, message: "\(total) dead job(s), none new since the last check \(Self.seconds(since)) ago\(notSaved ?? "")",
            numbers: numbers)
    }

    /// The UTC days whose burial counters a run reads: those the baseline kept and every day
    /// from the one before its time to tomorrow (a worker's clock may be a day ahead), at most 33 beyond the baseline's
    /// (its key lives 30 days; a hand-edited `at` of 1970 or `-inf` reads a month, not fifty years).
    static func deathDays(baseline: HealthStore.DeadBaseline, now: Double) -> [String] {
        let secondsADay = 86_400.0
        let today = (now / secondsADay).rounded(.down)
        var start = baseline.at.map { ($0 / secondsADay).rounded(.down) - 1 } ?? today - 1
        if !start.isFinite || start < today - 32 { start = today - 32 }
        start = min(start, today - 1)
        let day = { (number: Double) in QueueKeys.day(Date(timeIntervalSince1970: number * secondsADay)) }
        var read = stride(from: start, through: today + 1, by: 1).map(day)
        // The baseline's days that fall outside (its time ahead of this clock, or hand-edited), read as well: what they
        // held is subtracted from what they hold now.
        read = baseline.days.filter { !read.contains($0) } + read
        return read
    }
}
