import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// `jobs/PROTOCOL.md` against the code: the Python example writes what the worker reads, and reads
/// what Swift writes.
@Suite struct ProtocolTests {
    private func python(_ arguments: [String], namespace: String) async throws -> (Int32, String) {
        let script = BuiltProducts.projectRoot.appendingPathComponent("jobs/examples/hoopoe_enqueue.py").path
        _ = await (try ChildProcess(BuiltProducts.hoopoe, ["functions", "load"], environment: ["REDIS_URL": try TestRedis.url()])).wait(timeout: .seconds(20))  // the client FCALLs hoopoe_enqueue
        let child = try ChildProcess("/usr/bin/env", ["python3", script] + arguments, environment: ["REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": namespace])
        guard let status = await child.wait(timeout: .seconds(120)) else { throw TestSupportError("python did not finish: \(child.output)") }
        return (status, child.output)
    }

    /// The documented script is the engine's file itself (a link), so the two cannot drift apart.
    @Test func documentedLuaScriptIsALinkToTheOneTheEngineRuns() throws {
        let root = BuiltProducts.projectRoot
        let link = root.appendingPathComponent("jobs/lua/enqueue.lua")
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: link.path)
        let resolved = link.deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL.path
        #expect(resolved == root.appendingPathComponent("Sources/HoopoeCore/Store/Lua/enqueue.lua").standardizedFileURL.path, "jobs/lua/enqueue.lua → \(target)")
    }

    /// On a Redis where no hoopoe process has loaded the function library, a later job cannot be enqueued: the
    /// example says so, naming the fix, with exit 69 (the service is unavailable), not 64 (a usage error).
    @Test func pythonExampleWithoutTheFunctionLibraryExits69NamingTheFix() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let script = BuiltProducts.projectRoot.appendingPathComponent("jobs/examples/hoopoe_enqueue.py").path
        let child = try ChildProcess(
            "/usr/bin/env", ["python3", script, "diag.record", #"{"key":"k","member":"m"}"#, "--in", "60"],
            environment: ["REDIS_URL": server.url, "HOOPOE_NAMESPACE": "nolib"])
        let status = await child.wait(timeout: .seconds(60))
        #expect(status == 69, "\(child.output)")
        #expect(child.output.contains("hoopoe functions load"), "\(child.output)")
    }

    @Test func tenThousandJobsFromPythonAllRun() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):py"
        let (status, output) = try await python(["--count", "10000", "diag.record", #"{"key":"\#(key)","member":"m{i}"}"#], namespace: h.namespace)
        #expect(status == 0, "\(output)")
        // Two worker loops, as two processes would be.
        let workers = [h.startWorker(), h.startWorker()]
        #expect(try await h.eventually(timeout: .seconds(60)) { try await h.recorded(key).count == 10_000 })
        for (worker, _) in workers { worker.shutdown() }
        for (_, task) in workers { try await task.value }
        let counts = try await h.recorded(key)
        #expect(counts.count == 10_000 && counts.values.allSatisfy { $0 == 1 })
    }

    @Test func swiftDecodesWhatPythonWrote() async throws {
        let h = try EngineHarness()
        let (status, output) = try await python(
            ["sms.send", #"{"phone":"+989121234567","name":"مریم","n":3}"#, "--in", "3600", "--unique-key", "u-1"], namespace: h.namespace)
        #expect(status == 0, "\(output)")
        let parts = output.split(separator: " ")
        #expect(parts.first == "scheduled")
        let id = String(parts.last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let found = try await h.jobs.find(id: id, queue: "default")
        #expect(found?.envelope.type == "sms.send")
        #expect(found?.envelope.uniqueKey == "u-1")
        #expect(found?.envelope.payload["name"] == .string("مریم"))
        #expect(found?.envelope.payload["n"] == .integer(3))
        // The unique key the Python side took is the one Swift checks.
        #expect(try await h.jobs.enqueue(type: "sms.send", payload: .null, options: EnqueueOptions(uniqueKey: "u-1")) == .duplicate(existingID: id))
    }

    @Test func pythonReadsAndValidatesWhatSwiftWrote() async throws {
        let h = try EngineHarness()
        let ready = try await h.jobs.enqueue(type: "diag.record", payload: .object(["key": .string("k"), "member": .string("سلام")])).createdID!
        let later = try await h.jobs.enqueue(type: "diag.record", payload: .object(["key": .string("k"), "member": .string("b")]), options: .after(.seconds(600))).createdID!
        let (status, output) = try await python(["--dump", "default"], namespace: h.namespace)
        #expect(status == 0, "\(output)")
        let schema = BuiltProducts.projectRoot.appendingPathComponent("jobs/schemas/envelope.schema.json").path
        let check = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            seen = {}
            for line in sys.stdin:
                row = json.loads(line)
                jsonschema.validate(row["envelope"], schema)
                seen[row["envelope"]["id"]] = (row["state"], row["envelope"]["payload"]["member"])
            print(json.dumps(seen, ensure_ascii=False))
            """
        let checker = try ChildProcess("/bin/sh", ["-c", "printf '%s' \"$DUMP\" | python3 -c \"$CHECK\" \"$SCHEMA\""], environment: ["DUMP": output, "CHECK": check, "SCHEMA": schema])
        #expect(await checker.wait(timeout: .seconds(30)) == 0, "\(checker.output)")
        let seen = try JSONDecoder().decode([String: [String]].self, from: Data(checker.output.utf8))
        #expect(seen[ready] == ["ready", "سلام"])
        #expect(seen[later] == ["scheduled", "b"])
    }
}
