import Foundation
import TestSupport

/// What a Hoopoe service of a compose file in `deploy/` gets as its environment: its `env_file`s in order, a later
/// file's value winning, as Compose reads them (`KEY=VALUE` lines; `#` comments); an optional file that is not in
/// `deploy/` (the operator's `hoopoe.env`) is skipped.
func composeEnvironment(of service: [String: Any]?) throws -> [String: String] {
    var environment: [String: String] = [:]
    for entry in service?["env_file"] as? [Any] ?? [] {
        let path = (entry as? String) ?? ((entry as? [String: Any])?["path"] as? String) ?? ""
        let required = (entry as? [String: Any])?["required"] as? Bool ?? true
        let file = BuiltProducts.projectRoot.appendingPathComponent("deploy").appendingPathComponent(path)
        guard required || FileManager.default.fileExists(atPath: file.path) else { continue }
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { environment[String(parts[0])] = String(parts[1]) }
        }
    }
    return environment
}
