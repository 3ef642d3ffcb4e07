import HoopoeJSON

/// Everything one health-check run found, in the order the checks ran.
public struct HealthReport: Sendable, Hashable {
    /// Every finding, in check order.
    public let findings: [HealthFinding]
    /// False when Redis stopped answering during the run; the later checks were not run.
    public let reachable: Bool
    /// What Redis the run talked to, node by node (deployment checks only; nil when it could not be read).
    public let topology: TopologyReport?

    /// - Parameters:
    ///   - findings: the findings in check order.
    ///   - reachable: whether Redis answered throughout.
    ///   - topology: the topology read during the run, if any.
    public init(findings: [HealthFinding], reachable: Bool = true, topology: TopologyReport? = nil) {
        self.findings = findings
        self.reachable = reachable
        self.topology = topology
    }

    /// unreachable, else unhealthy when any check failed, else healthy (warnings allowed).
    public var verdict: HealthVerdict {
        if !reachable { return .unreachable }
        return findings.contains { $0.status == .fail } ? .unhealthy : .healthy
    }

    /// The finding with this name, if that check ran.
    public func finding(_ name: String) -> HealthFinding? {
        findings.first { $0.name == name }
    }

    /// The documented JSON shape:
    /// `{"status": "healthy|unhealthy|unreachable", "checks": [{"name", "status", "message", <numbers>...}],
    /// "topology": {...}}` (``TopologyReport/json``; no `topology` when it was not read).
    /// Numbers sit beside `name`/`status`/`message` in each check; whole numbers are JSON integers.
    public var json: JSONValue {
        let checks: [JSONValue] = findings.map { finding in
            var object: [String: JSONValue] = [
                "name": .string(finding.name), "status": .string(finding.status.rawValue), "message": .string(finding.message),
            ]
            for (key, value) in finding.numbers where object[key] == nil {
                object[key] = value == value.rounded() && abs(value) < 1e15 ? .integer(Int64(value)) : .double(value)
            }
            return .object(object)
        }
        var document: [String: JSONValue] = ["status": .string(verdict.rawValue), "checks": .array(checks)]
        if let topology { document["topology"] = topology.json }
        return .object(document)
    }
}
