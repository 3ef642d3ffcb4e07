import Foundation
import HoopoeCore
import TestSupport
import Testing

/// `hoopoe enqueue TYPE` without `--queue` puts the job on its type's queue, as jobs/PROTOCOL.md's "Which queue"
/// table, the type pages and the clients' `QUEUES` tables say: it put every type on `default`, so a
/// `freecredit.request`, for which a user waits, waited behind the default queue's backlog.
@Suite struct EnqueueTypeQueueTests {
    /// jobs/PROTOCOL.md's "Which queue" table: each type its queue.
    static func protocolTable() throws -> [String: String] {
        let text = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("jobs/PROTOCOL.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "### Which queue").dropFirst().first)
        var table: [String: String] = [:]
        for line in section.split(separator: "\n").drop(while: { !$0.hasPrefix("| `") }).prefix(while: { $0.hasPrefix("|") }) {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 2 else { continue }
            let queue = cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            for type in cells[1].split(separator: ",") { table[type.trimmingCharacters(in: CharacterSet(charactersIn: " `"))] = queue }
        }
        return table
    }

    /// A payload of `type` that `hoopoe enqueue` accepts: its sample (jobs/samples), or the diagnostic jobs' own.
    static func payload(_ type: String) -> String {
        switch type {
        case "diag.record": return #"{"key":"k","member":"m"}"#
        case "diag.incr": return #"{"key":"k"}"#
        default: return "@" + BuiltProducts.projectRoot.appendingPathComponent("jobs/samples/\(type).json").path
        }
    }

    @Test func everyTypeOfTheProtocolTableGoesToItsQueue() async throws {
        let table = try Self.protocolTable()
        #expect(table.count >= 17 && table["freecredit.request"] == "critical" && table["sms.send"] == "default", "the table is read: \(table)")
        let h = try CLIHarness()
        for (type, queue) in table.sorted(by: { $0.key < $1.key }) {
            let (status, output) = try await h.run(["enqueue", type, "--payload", Self.payload(type)])
            let id = output.split(separator: "\n").first { !$0.hasPrefix("hoopoe:") }.map(String.init) ?? ""
            #expect(status == 0, "\(type): \(output)")
            #expect(try await h.jobs.find(id: id, queue: queue) != nil, "\(type) goes to \(queue): \(output)")
            // Each type page says the same (its "Queue:" line; the diagnostic jobs have none).
            guard !type.hasPrefix("diag.") else { continue }
            let page = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("jobs/types/\(type).md"), encoding: .utf8)
            #expect(page.contains("Queue: `\(queue)`"), "jobs/types/\(type).md names another queue")
        }
        // And the clients' tables: every type not on `default`, with its queue.
        for file in ["jobs/clients/python/hoopoe_client/client.py", "jobs/clients/go/jobs.go", "jobs/clients/php/src/Jobs.php"] {
            let text = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent(file), encoding: .utf8)
            let line = text.split(separator: "\n").first { $0.contains("QUEUES =") || $0.contains("Queues =") }.map(String.init) ?? ""
            for (type, queue) in table where queue != "default" {
                #expect(line.contains("\"\(type)\"") || line.contains("'\(type)'"), "\(file): \(line)")
                #expect(line.contains("\"\(queue)\"") || line.contains("'\(queue)'"), "\(file): \(line)")
            }
        }
    }

    @Test func queueOverridesTheTypesQueueAndTheHelpSaysWhich() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["enqueue", "freecredit.request", "--payload", Self.payload("freecredit.request"), "--queue", "default"])
        let id = output.split(separator: "\n").first { !$0.hasPrefix("hoopoe:") }.map(String.init) ?? ""
        #expect(status == 0, "\(output)")
        #expect(try await h.jobs.find(id: id, queue: "default") != nil, "--queue default wins: \(output)")
        let unserved = try await h.run(["enqueue", "freecredit.request", "--payload", Self.payload("freecredit.request")])
        #expect(unserved.output.contains("no live worker serves queue `critical`"), "the warning names the queue it went to: \(unserved.output)")
        let help = try await h.run(["enqueue", "--help"]).output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("`critical` for freecredit.request, every other type on `default`"), "\(help)")
    }

    /// jobs/examples/hoopoe_enqueue.py, the services' command-line example, sends a type to its queue too.
    @Test func thePythonExampleSendsATypeToItsQueue() async throws {
        try #require(PythonExamplesTests.hasPython, "python3 with the redis package is needed: run scripts/install-deps.sh")
        let h = try CLIHarness()
        let script = BuiltProducts.projectRoot.appendingPathComponent("jobs/examples/hoopoe_enqueue.py").path
        let sample = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("jobs/samples/freecredit.request.json"), encoding: .utf8)
        for (arguments, queue) in [([String](), "critical"), (["--queue", "low"], "low")] {
            let process = try ChildProcess("/usr/bin/env", ["python3", script, "freecredit.request", sample] + arguments, environment: [
                "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace,
            ])
            #expect(await process.wait(timeout: .seconds(20)) == 0, "\(process.output)")
            let id = try #require(process.output.split(separator: "\n").first { $0.hasPrefix("enqueued ") }).dropFirst("enqueued ".count)
            #expect(try await h.jobs.find(id: String(id), queue: queue) != nil, "\(arguments) → \(queue): \(process.output)")
        }
    }
}
