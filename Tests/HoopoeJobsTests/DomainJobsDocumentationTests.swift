import Foundation
import HoopoeCore
import HoopoeScheduler
import HoopoeJobs
import TestSupport
import Testing

/// Every domain job type the worker registers is documented where users look (jobs/README.md): a description in
/// jobs/types/, a JSON Schema, and a sample payload that the schema accepts (checked with Python's jsonschema, the
/// validator other services use).
@Suite struct DomainJobsDocumentationTests {
    let root = BuiltProducts.projectRoot.appendingPathComponent("jobs")

    func registeredTypes() async throws -> [String] {
        let harness = try await DomainHarness()
        var registry = JobRegistry()
        DomainJobs.register(into: &registry, services: try harness.services())
        return registry.types
    }

    @Test func everyTypeHasDescriptionSchemaSampleAndReadmeRow() async throws {
        let types = try await registeredTypes()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        for type in types {
            for file in ["types/\(type).md", "schemas/\(type).schema.json", "samples/\(type).json"] {
                #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path), "jobs/\(file) is missing")
            }
            #expect(readme.contains("`\(type)`"), "jobs/README.md has no row for \(type)")
        }
    }

    @Test func everyScheduledTaskRunsAJobTheWorkerRegisters() async throws {
        var types = Set(try await registeredTypes())
        types.formUnion([DiagRecordJob.type, DiagIncrJob.type])
        let file = try ScheduleFile.load(contentsOf: root.appendingPathComponent("schedule.yaml"))
        #expect(!file.enabledTasks.isEmpty)
        for task in file.enabledTasks {
            #expect(types.contains(task.type), "jobs/schedule.yaml task \(task.name) runs \(task.type), which no handler registers")
        }
    }

    @Test func everySampleValidatesAgainstItsSchema() async throws {
        let types = try await registeredTypes()
        let check = """
            import json, sys, jsonschema
            root = sys.argv[1]
            for t in sys.argv[2:]:
                schema = json.load(open(f"{root}/schemas/{t}.schema.json"))
                jsonschema.Draft202012Validator.check_schema(schema)
                jsonschema.validate(json.load(open(f"{root}/samples/{t}.json")), schema)
                # A payload missing every field must be refused, or the schema checks nothing.
                if schema.get("required"):
                    assert not jsonschema.Draft202012Validator(schema).is_valid({}), t
            print("ok", len(sys.argv) - 2)
            """
        let checker = try ChildProcess("/usr/bin/env", ["python3", "-c", check, root.path] + types)
        #expect(await checker.wait(timeout: .seconds(60)) == 0, "\(checker.output)")
    }

    /// Every schema's `phone` pattern accepts what the handlers accept (``SMSPayloadCheck/nationalMobile(_:)``, Persian
    /// digits included) and refuses what they refuse: a service validating against the schema must not refuse a
    /// number the worker sends to, nor pass one it buries.
    @Test func everySchemasPhonePatternAgreesWithTheHandlers() async throws {
        let numbers = ["09121234567", "+989121234567", "00989121234567", "989121234567", "9121234567", "۰۹۱۲۱۲۳۴۵۶۷", "+۹۸۹۱۲۱۲۳۴۵۶۷",
                       "٠٩١٢١٢٣٤٥٦٧", "02112345678", "0912123456", "+14155550100", "09121234567x"]
        let verdicts = numbers.map { SMSPayloadCheck.nationalMobile($0) != nil }
        #expect(verdicts.filter { $0 }.count == 8 && verdicts.filter { !$0 }.count == 4)
        let check = """
            import glob, json, re, sys
            numbers, verdicts = json.loads(sys.argv[2]), json.loads(sys.argv[3])
            def phones(node):
                if isinstance(node, dict):
                    for key, value in node.items():
                        if key == "phone" and isinstance(value, dict) and "pattern" in value:
                            yield value["pattern"]
                        yield from phones(value)
                elif isinstance(node, list):
                    for value in node:
                        yield from phones(value)
            found = 0
            for path in sorted(glob.glob(f"{sys.argv[1]}/schemas/*.json")):
                for pattern in phones(json.load(open(path, encoding="utf-8"))):
                    found += 1
                    for number, accepted in zip(numbers, verdicts):
                        assert bool(re.search(pattern, number)) == accepted, f"{path}: {number} {'refused' if accepted else 'accepted'}"
            assert found >= 4, found
            print("ok", found)
            """
        let encode = { (value: [String]) in String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self) }
        let checker = try ChildProcess("/usr/bin/env", [
            "python3", "-c", check, root.path, try encode(numbers), String(decoding: try JSONSerialization.data(withJSONObject: verdicts), as: UTF8.self),
        ])
        #expect(await checker.wait(timeout: .seconds(60)) == 0, "\(checker.output)")
    }
}
