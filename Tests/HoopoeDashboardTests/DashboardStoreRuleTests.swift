import Foundation
import Testing
import TestSupport

/// The dashboard reads Redis only through the stores (docs/code-map.md, decision 0027): no command, script or key is
/// built under Sources/HoopoeDashboard, so a change to a key's layout is made in its store and the dashboard follows.
@Suite struct DashboardStoreRuleTests {
    @Test func theDashboardBuildsNoCommandAndNoKey() throws {
        let folder = BuiltProducts.projectRoot.appendingPathComponent("Sources/HoopoeDashboard")
        let files = (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".swift") }
        #expect(files.count >= 10, "the walk found the sources")
        // Spelled in pieces so a copy of this list in the dashboard's sources would still be found.
        let forbidden = ["Redis" + "Command", "Redis" + "Script", ".send(", ".pipeline(", ".transaction(", ".run(", ":{", "}:", "keys(", ".global"]
        var offenders: [String] = []
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for word in forbidden where line.contains(word) { offenders.append("\(file):\(index + 1): \(word)") }
            }
        }
        #expect(offenders.isEmpty, "the dashboard reaches Redis outside a store:\n\(offenders.joined(separator: "\n"))")
    }
}
