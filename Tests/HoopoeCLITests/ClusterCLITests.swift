import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The real `hoopoe` binary against a real three-primary cluster (``ClusterServers``), as the issue tried it:
/// `enqueue` answered `MOVED`, `worker --queues mail,default` exited at `XGROUP CREATE` (naming the wrong command),
/// and `queues` failed with `MOVED`.
@Suite(.serialized) struct ClusterCLITests {
    @Test("enqueue, worker --queues mail,default,critical,low (queues on all three nodes), queues, dead list and health-check on redis-cluster://")
    func workerEnqueueQueuesDead() async throws {
        let servers = try ClusterServers.shared()
        let namespace = TestRedis.uniquePrefix("clustercli")
        let environment = ["REDIS_URL": servers.url, "HOOPOE_NAMESPACE": namespace, "LOG_LEVEL": "warning"]
        let redis = try RedisClient(url: servers.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: namespace)
        let queues = ["mail", "default", "critical", "low"]
        #expect(Set(try queues.map { try servers.owner(ofSlot: HashSlot.of($0)) }) == [0, 1, 2], "the queues live on all three nodes")

        func hoopoe(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            let process = try ChildProcess(BuiltProducts.hoopoe, arguments, environment: environment)
            guard let status = await process.wait(timeout: .seconds(20)) else {
                throw TestSupportError("hoopoe \(arguments.joined(separator: " ")) did not finish: \(process.output)")
            }
            return (status, process.output)
        }

        let key = "\(namespace):{rec}:ran"
        for queue in queues {
            let payload = #"{"key": "\#(key)", "member": "\#(queue)"}"#
            let (status, output) = try await hoopoe(["enqueue", "diag.record", "--queue", queue, "--payload", payload])
            #expect(status == 0, "enqueue on \(queue): \(output)")
        }
        _ = try await jobs.enqueue(type: "no.such.type", payload: .object([:]), options: EnqueueOptions(queue: "critical", id: "cluster-dead-1"))

        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", queues.joined(separator: ",")], environment: environment)
        let ran = try await eventually(timeout: .seconds(20)) {
            let members = try await redis.send("SMEMBERS", key).array?.compactMap(\.string) ?? []
            return Set(members) == Set(queues)
        }
        #expect(ran, "every queue's job ran: \(worker.output)")
        #expect(try await eventually { try await jobs.info(queue: "critical").dead == 1 })

        let (queuesStatus, queuesOutput) = try await hoopoe(["queues", "--json"])
        #expect(queuesStatus == 0, "\(queuesOutput)")
        let line = queuesOutput.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
        let listed = (JSONValue.parse(Array(line.utf8))?["queues"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(Set(queues).isSubset(of: Set(listed)), "\(queuesOutput)")
        let (deadStatus, deadOutput) = try await hoopoe(["dead", "list"])
        #expect(deadStatus == 0 && deadOutput.contains("cluster-dead-1"), "\(deadOutput)")

        let (healthStatus, healthOutput) = try await hoopoe(["health-check", "--schedule", "/nonexistent/hoopoe-schedule.yaml"])
        #expect(healthStatus == 0 && healthOutput.contains("queue:mail") && healthOutput.contains("1 live worker"), "\(healthOutput)")
        #expect(!healthOutput.contains("MOVED") && !healthOutput.contains("CROSSSLOT"), "\(healthOutput)")

        worker.signal(SIGTERM)
        let exit = await worker.wait(timeout: .seconds(15))
        #expect(exit == 0, "the worker stops cleanly: \(worker.output)")
        #expect(!worker.output.contains("MOVED") && !worker.output.contains("CROSSSLOT"), "\(worker.output)")
    }

    @Test("the Cluster section of docs/operating.md: each example line runs against a real cluster; functions load reaches every primary")
    func operatingDocExamples() async throws {
        let servers = try ClusterServers.shared()
        let doc = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("docs/operating.md"), encoding: .utf8)
        let section = try #require(doc.components(separatedBy: "## Redis Cluster").dropFirst().first?.components(separatedBy: "\n## ").first)
        let lines = section.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("REDIS_URL=") }
        #expect(lines.count == 2, "\(lines)")
        let environment = ["HOOPOE_NAMESPACE": TestRedis.uniquePrefix("clusterdoc"), "LOG_LEVEL": "warning"]
        for line in lines {
            let command = line.replacingOccurrences(of: "10.0.0.11:7000,10.0.0.12:7000,10.0.0.13:7000", with: servers.seeds)
                .replacingOccurrences(of: " hoopoe ", with: " '\(BuiltProducts.hoopoe)' ")
            let process = try ChildProcess("/bin/sh", ["-c", command], environment: environment)
            let status = await process.wait(timeout: .seconds(20))
            #expect(status == 0, "\(line): \(process.output)")
        }
        let load = try ChildProcess(BuiltProducts.hoopoe, ["functions", "load"], environment: environment.merging(["REDIS_URL": servers.url]) { $1 })
        #expect(await load.wait(timeout: .seconds(20)) == 0, "\(load.output)")
        for node in servers.nodes {
            let listed = ClusterServers.cli(port: node.port, ["FUNCTION", "LIST", "LIBRARYNAME", "hoopoe"])
            #expect(listed.contains("hoopoe_enqueue"), "node \(node.port) has the library: \(listed)")
        }
    }
}
