import HoopoeCore

/// A ``HealthReport`` as a table for people: one line per check, the Redis topology, then the verdict.
enum HealthReportText {
    static func table(_ report: HealthReport) -> String {
        var table = TextTable("STATUS", "CHECK", "DETAIL")
        for finding in report.findings { table.add(finding.status.rawValue, finding.name, finding.message) }
        let warnings = report.findings.filter { $0.status == .warn }.count
        let failures = report.findings.filter { $0.status == .fail }.count
        var summary = report.verdict.rawValue
        var counts: [String] = []
        if failures > 0 { counts.append("\(failures) failed") }
        if warnings > 0 { counts.append("\(warnings) warning\(warnings == 1 ? "" : "s")") }
        if !counts.isEmpty { summary += " (" + counts.joined(separator: ", ") + ")" }
        let topology = report.topology.map { "\n\n" + TopologyText.table($0) } ?? ""
        return table.text + topology + "\n" + summary
    }
}
