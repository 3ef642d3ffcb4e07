import HoopoeCore

/// The Redis topology (``TopologyReport``) for people: a summary line, then one row per primary with its slots
/// (cluster), whether it answered, its role, and its replicas with their sync state. Shown by `hoopoe health-check`
/// and `hoopoe queues`. Addresses only, never a URL (a URL may carry a password).
enum TopologyText {
    /// Reads the topology through the command's client; nil when it could not be read (the command reports the rest).
    static func read(_ jobs: JobQueue) async -> TopologyReport? {
        try? await TopologyReport.probe(jobs.redis)
    }

    /// `Redis: cluster: 3 of 3 primaries reachable, ...` and a table of primaries.
    static func table(_ report: TopologyReport) -> String {
        var table = report.kind == .cluster ? TextTable("PRIMARY", "SLOTS", "REACHABLE", "ROLE", "REPLICAS") : TextTable("PRIMARY", "REACHABLE", "ROLE", "REPLICAS")
        for primary in report.primaries {
            let replicas = primary.replicas.isEmpty
                ? (primary.problem ?? "none")
                : primary.replicas.map { "\($0.address) \($0.inSync ? "in sync" : "NOT in sync (\($0.state))") lag \($0.lagSeconds.map { "\($0) s" } ?? "?")" }
                    .joined(separator: ", ")
            let reachable = primary.reachable ? "yes" : "NO"
            if report.kind == .cluster {
                table.add(primary.address, String(primary.slots ?? 0), reachable, primary.role ?? "-", replicas)
            } else {
                table.add(primary.address, reachable, primary.role ?? "-", replicas)
            }
        }
        var text = "Redis: \(report.summary)"
        if report.unservedSlots > 0 { text += "; \(report.unservedSlots) slots have no primary" }
        return text + "\n" + table.text
    }
}
