import Foundation
import HoopoeJobs
import TestSupport
import Testing

/// The rig the domain tests stand on: its fake Kavenegar panel must define the templates Hoopoe ships, or a test
/// of a shipped template fails for the rig's reason (the link-free reminder was once missing from a copied list).
@Suite struct DomainHarnessTests {
    @Test func theFakePanelDefinesEveryShippedTemplate() throws {
        let path = BuiltProducts.projectRoot.appendingPathComponent("jobs/sms_templates.yaml").path
        let shipped = Set(try SMSTemplates.load(path: path).templates.values.map(\.kavenegar))
        #expect(shipped.contains("expiration-reminder-nolink"))
        #expect(shipped.isSubset(of: DomainHarness.templates), "missing: \(shipped.subtracting(DomainHarness.templates))")
    }
}
