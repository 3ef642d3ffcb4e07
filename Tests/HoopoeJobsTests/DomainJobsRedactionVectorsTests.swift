import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import TestSupport
import Testing

/// jobs/conformance/redaction.json's `rule` is this build's: each handler's declared secret keys, its paths named like
/// secrets that are shown (`sms.send`'s `tokens.token`), and the types the
/// worker runs (the domain jobs and `diag.*`, as `hoopoe worker` registers them). The file's vectors run against the
/// engine's rule (HoopoeCoreTests' PhoneNumberMaskTests and PayloadRedactionTests) and against the copy of it in
/// jobs/examples/hoopoe_enqueue.py (jobs/clients/python/tests/test_examples.py), which also checks its tables against
/// this `rule`: a handler that starts declaring a secret key fails here until the file, and so the copy, knows it.
@Suite struct DomainJobsRedactionVectorsTests {
    @Test func theVectorsRuleIsTheWorkersHandlers() async throws {
        let harness = try await DomainHarness()
        var registry = JobRegistry()
        registry.register(DiagRecordJob())
        registry.register(DiagIncrJob())
        DomainJobs.register(into: &registry, services: try harness.services())
        let built = PayloadRedaction(registry: registry)

        let file = BuiltProducts.projectRoot.appendingPathComponent("jobs/conformance/redaction.json")
        let rule = try #require(JSONValue.parse(Array(try Data(contentsOf: file)))?["rule"])
        var secretKeys: [String: Set<String>] = [:]
        if case .object(let map)? = rule["secret_keys"] {
            for (type, keys) in map { secretKeys[type] = Set(keys.arrayValue?.compactMap(\.stringValue) ?? []) }
        }
        #expect(secretKeys == built.secretKeys)
        var namedLikeSecrets: [String: Set<String>] = [:]
        if case .object(let map)? = rule["paths_named_like_secrets"] {
            for (type, paths) in map { namedLikeSecrets[type] = Set(paths.arrayValue?.compactMap(\.stringValue) ?? []) }
        }
        #expect(namedLikeSecrets == built.pathsNamedLikeSecrets)
        #expect(Set(rule["known_types"]?.arrayValue?.compactMap(\.stringValue) ?? []) == Set(registry.types))
    }
}
