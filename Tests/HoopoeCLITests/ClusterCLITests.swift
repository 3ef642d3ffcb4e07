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
        let topology = JSONValue.parse(Array(line.utf8))?["topology"]
        #expect(topology?["kind"]?.stringValue == "cluster", "\(queuesOutput)")
        let primaries = topology?["primaries"]?.arrayValue ?? []
        #expect(Set(primaries.compactMap { $0["address"]?.stringValue }) == Set(servers.nodes.map { "127.0.0.1:\($0.port)" }), "\(queuesOutput)")
        #expect(primaries.compactMap { $0["slots"]?.int64Value }.reduce(0, +) == 16384 && primaries.allSatisfy { $0["reachable"] == .bool(true) }, "\(queuesOutput)")
        let (_, queuesText) = try await hoopoe(["queues"])
        #expect(queuesText.contains("Redis: cluster: 3 of 3 primaries reachable"), "\(queuesText)")
        let (deadStatus, deadOutput) = try await hoopoe(["dead", "list"])
        #expect(deadStatus == 0 && deadOutput.contains("cluster-dead-1"), "\(deadOutput)")

        let (healthStatus, healthOutput) = try await hoopoe(["health-check", "--schedule", noSchedule])
        #expect(healthStatus == 0 && healthOutput.contains("queue:mail") && healthOutput.contains("1 live worker"), "\(healthOutput)")
        #expect(!healthOutput.contains("MOVED") && !healthOutput.contains("CROSSSLOT"), "\(healthOutput)")
        #expect(healthOutput.contains("Redis: cluster: 3 of 3 primaries reachable, 16384 slots served"), "the topology: \(healthOutput)")
        #expect(servers.nodes.allSatisfy { healthOutput.contains("127.0.0.1:\($0.port)") }, "every primary listed: \(healthOutput)")

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

    @Test("the migration section of docs/operating.md: its lines, in order, move ready, delayed and dead jobs from one Redis to a cluster, where they run")
    func migrationDocLines() async throws {
        let servers = try ClusterServers.shared()
        let old = try RedisServer()
        let namespace = TestRedis.uniquePrefix("migrate")
        let environment = ["HOOPOE_NAMESPACE": namespace, "LOG_LEVEL": "warning"]
        let source = try RedisClient(url: old.url)
        defer { source.close() }
        let before = JobQueue(redis: source, namespace: namespace)
        let queues = try (0..<3).map { try servers.tag(onNode: $0, prefix: "mig") }
        let key = "\(namespace):{\(try servers.tag(onNode: 1, prefix: "rec"))}:ran"
        func record(_ member: String) -> JSONValue { .object(["key": .string(key), "member": .string(member)]) }
        // Dead jobs, as a worker leaves them: one that knows no such type buries them, then stops.
        for (index, queue) in queues.enumerated() {
            _ = try await before.enqueue(type: "no.such.type", payload: .object([:]), options: EnqueueOptions(queue: queue, id: "dead-\(index)"))
        }
        let burier = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", queues.joined(separator: ",")], environment: environment.merging(["REDIS_URL": old.url]) { $1 })
        #expect(try await eventually(timeout: .seconds(15)) { try await queues.asyncAllSatisfy { try await before.info(queue: $0).dead == 1 } })
        burier.signal(SIGTERM)
        #expect(await burier.wait(timeout: .seconds(15)) == 0, "\(burier.output)")
        // Then ready and delayed jobs, with no worker left on the old server.
        for (index, queue) in queues.enumerated() {
            for n in 0..<2 { _ = try await before.enqueue(type: "diag.record", payload: record("moved-\(index)-\(n)"), options: EnqueueOptions(queue: queue)) }
            _ = try await before.enqueue(type: "diag.record", payload: record("later-\(index)"), options: EnqueueOptions(queue: queue, runAt: Date().addingTimeInterval(3)))
        }

        let doc = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("docs/operating.md"), encoding: .utf8)
        let section = try #require(doc.components(separatedBy: "## Migrating from one Redis to a cluster").dropFirst().first?.components(separatedBy: "\n### ").first)
        let lines = section.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("REDIS_URL=") || $0.hasPrefix("redis-cli ") }
        #expect(lines.count == 4, "\(lines)")
        var outputs: [String] = []
        for line in lines {
            let command = line.replacingOccurrences(of: "10.0.0.11:7000,10.0.0.12:7000,10.0.0.13:7000", with: servers.seeds)
                .replacingOccurrences(of: "10.0.0.11:7000", with: "127.0.0.1:\(servers.nodes[0].port)")
                .replacingOccurrences(of: "10.0.0.5:6379", with: "127.0.0.1:\(old.port)")
                .replacingOccurrences(of: " hoopoe ", with: " '\(BuiltProducts.hoopoe)' ")
            let process = try ChildProcess("/bin/sh", ["-c", command], environment: environment)
            let status = await process.wait(timeout: .seconds(30))
            #expect(status == 0, "\(line): \(process.output)")
            outputs.append(process.output)
        }
        #expect(queues.allSatisfy { outputs[0].contains($0) && outputs[2].contains($0) }, "hoopoe queues lists every queue before and after: \(outputs)")

        let redis = try RedisClient(url: servers.url)
        defer { redis.close() }
        let after = JobQueue(redis: redis, namespace: namespace)
        for queue in queues {
            let info = try await after.info(queue: queue)
            #expect(info.ready == 2 && info.scheduled == 1 && info.dead == 1 && info.inFlight == 0, "\(queue) on the cluster: \(info)")
        }
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", queues.joined(separator: ",")], environment: environment.merging(["REDIS_URL": servers.url]) { $1 })
        let expected = Set((0..<3).flatMap { index in ["moved-\(index)-0", "moved-\(index)-1", "later-\(index)"] })
        let ran = try await eventually(timeout: .seconds(20)) {
            Set(try await redis.send("SMEMBERS", key).array?.compactMap(\.string) ?? []) == expected
        }
        #expect(ran, "the moved jobs ran on the cluster, the delayed ones when due: \(worker.output)")
        #expect(try await after.deadJobs(queue: queues[0]).map(\.id) == ["dead-0"], "the dead set moved with its job")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(15)) == 0, "\(worker.output)")
    }
}

extension Sequence {
    fileprivate func asyncAllSatisfy(_ predicate: (Element) async throws -> Bool) async rethrows -> Bool {
        for element in self where try await !predicate(element) { return false }
        return true
    }
}
