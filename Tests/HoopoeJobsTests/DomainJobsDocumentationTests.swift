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

    /// jobs/README.md's payload column of every type with a schema (the domain jobs and `diag.record`) names every
    /// property of the schema and none it lacks, `?` after exactly the optional ones, and `name{…}` (an object's
    /// fields, e.g. `plan{id?, credit?, ip?}`) held to that object's properties the same way: a field added to a schema
    /// must reach the page other services read.
    @Test func readmePayloadColumnNamesEverySchemaProperty() async throws {
        let types = try await registeredTypes() + [DiagRecordJob.type]
        let check = #"""
            import json, re, sys
            root = sys.argv[1]
            readme = open(f"{root}/README.md", encoding="utf-8").read()
            problems = []
            # The top-level names in a payload cell's code, each with its `?` and the text of its own `{…}` (an object's fields).
            def fields(code):
                found, depth = [], 0
                for m in re.finditer(r'"?([A-Za-z_][A-Za-z0-9_]*)"?(\??)|([{}])', code):
                    if m.group(3) == "{":
                        depth += 1
                        if depth == 1 and found:
                            found[-1]["start"] = m.end()
                    elif m.group(3) == "}":
                        depth -= 1
                        if depth == 0 and found and "start" in found[-1] and "inner" not in found[-1]:
                            found[-1]["inner"] = code[found[-1]["start"]:m.start()]
                    elif depth == 0:
                        found.append({"name": m.group(1), "optional": m.group(2) == "?"})
                return found
            def compare(where, code, node):
                properties, required = node.get("properties", {}), set(node.get("required", []))
                named = fields(code)
                names = [field["name"] for field in named]
                for name in properties:
                    if name not in names:
                        problems.append(f"{where}: the payload column does not name `{name}`")
                for field in named:
                    name = field["name"]
                    if name not in properties:
                        problems.append(f"{where}: the payload column names `{name}`, which the schema does not have")
                        continue
                    optional = name not in required
                    if field["optional"] != optional:
                        problems.append(f"{where}: `{name}` is {'optional' if optional else 'required'} in the schema; the payload column says otherwise (`?` marks optional)")
                    if "inner" in field:
                        compare(f"{where}.{name}", field["inner"], properties[name])
            for t in sys.argv[2:]:
                rows = [line for line in readme.splitlines() if line.startswith(f"| `{t}` |")]
                if len(rows) != 1:
                    problems.append(f"{t}: {len(rows)} rows in jobs/README.md, not 1")
                    continue
                code = " ".join(re.findall(r"`([^`]*)`", rows[0].split("|")[2])).strip()
                if code.startswith("{") and code.endswith("}"):  # a payload written as one object
                    code = code[1:-1]
                compare(t, code, json.load(open(f"{root}/schemas/{t}.schema.json", encoding="utf-8")))
            print("\n".join(problems) or f"ok {len(sys.argv) - 2}")
            sys.exit(1 if problems else 0)
            """#
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
