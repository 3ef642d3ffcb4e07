import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// The ACL lines of docs/operating.md ("Redis ACL") work for their roles on a real Redis, and a command an ACL
/// lacks is reported as a permission problem naming the command, never as "unreachable" or "too old".
@Suite(.serialized) struct RedisACLTests {
    static let password = "acl-test-password"

    /// The documented `ACL SETUSER` lines that create a user (they start with `on`), by user: the words after `ACL`,
    /// the password filled in.
    static func documentedUsers() throws -> [String: [String]] {
        try documentedLines().filter { $0.count > 2 && $0[2] == "on" }.reduce(into: [:]) { $0[$1[1]] = $1 }
    }

    /// Every documented `ACL SETUSER` line, in order: those that create a user, then those that add to one.
    static func documentedLines() throws -> [[String]] {
        let doc = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("docs/operating.md"), encoding: .utf8)
        return doc.split(separator: "\n").filter { $0.hasPrefix("    ACL SETUSER ") }.map { line in
            line.split(separator: " ").dropFirst().map { $0 == ">PASSWORD" ? ">\(password)" : String($0) }
        }
    }

    private static func create(_ users: [String: [String]], on server: RedisServer) async throws {
        let admin = try RedisClient(url: server.url)
        defer { admin.close() }
        for words in users.values { try await admin.send(RedisCommand("ACL", words)) }
    }

    private static func environment(_ server: RedisServer, user: String) -> [String: String] {
        ["REDIS_URL": "redis://\(user):\(password)@127.0.0.1:\(server.port)/0", "HOOPOE_NAMESPACE": "hoopoe", "LOG_LEVEL": "info"]
    }

    private static func run(_ arguments: [String], _ environment: [String: String]) async throws -> (status: Int32, output: String) {
        let process = try ChildProcess(BuiltProducts.hoopoe, arguments, environment: environment)
        let status = await process.wait(timeout: .seconds(20))
        return (status ?? -1, process.output)
    }

    /// The Python client's waits and event reads (jobs/clients/python), as a service runs them under `user`: a job
    /// enqueued with notify and waited for, free credit asked and waited for on the queue `default` (the one the
    /// worker serves), the events read (blocking, until the worker's freecredit.granted is in), from "$", and through
    /// a consumer group. Prints "ok".
    private static func pythonClient(_ server: RedisServer, user: String) async throws -> (status: Int32, output: String) {
        try #require(PythonExamplesTests.hasPython, "python3 with the redis package is needed: run scripts/install-deps.sh")
        let script = """
            import os, redis, hoopoe_client as hoopoe
            client = hoopoe.Client(redis.Redis.from_url(os.environ["REDIS_URL"]))
            job = client.enqueue("diag.record", {"key": "hoopoe:acl:client", "member": "notified"}, notify=True)
            outcome = client.wait_for(job.id, timeout=15)
            assert outcome is not None and outcome["outcome"] == "processed", outcome
            answer = hoopoe.Jobs(client, "default").free_credit("acl-user", "acl-request", timeout=15)
            assert answer is not None and answer["status"] == "granted", answer
            assert hoopoe.Jobs(client, "default").free_credit("acl-user", "acl-request")["status"] == "granted"
            events, after = [], "0-0"
            while "freecredit.granted" not in [event.type for event in events]:  # written just after the answer
                more = client.read_events(after, block_ms=10000)
                assert more, events
                events, after = events + more, more[-1].id
            assert client.read_events("$", block_ms=200) == []
            assert client.create_events_group("acl-readers", start="0") is True
            read = client.read_events_group("acl-readers", "acl-reader")
            assert [event.id for event in read][:len(events)] == [event.id for event in events], read
            assert client.ack_events("acl-readers", *[event.id for event in read]) == len(read)
            print("ok")
            """
        let process = try ChildProcess("/usr/bin/env", ["python3", "-c", script], environment: [
            "REDIS_URL": "redis://\(user):\(password)@127.0.0.1:\(server.port)/0", "HOOPOE_NAMESPACE": "hoopoe",
            "PYTHONPATH": BuiltProducts.projectRoot.appendingPathComponent("jobs/clients/python").path,
        ])
        let status = await process.wait(timeout: .seconds(60))
        return (status ?? -1, process.output)
    }

    /// Where php is, or nil: the PHP client's tests need php-cli with phpredis (scripts/test-clients.sh), which this
    /// machine may not have.
    static let php = ["/usr/bin/php", "/usr/local/bin/php"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The PHP client's `enqueueBatch` (jobs/clients/php) of two jobs, a plain XADD and a later one (FCALL), as a
    /// service runs it under `user`: one transaction (MULTI, the jobs, EXEC), so the user needs `+multi +exec`. Without
    /// them Redis refused MULTI, ran the jobs one by one and refused EXEC: the jobs were written and the batch failed.
    /// Prints "ok" when both are Enqueued. `later: false` makes the second a plain XADD too (no function library needed).
    private static func phpBatch(_ php: String, _ server: RedisServer, user: String, later: Bool = true) async throws -> (status: Int32, output: String) {
        let script = #"""
            spl_autoload_register(static function (string $class): void {
                $file = getenv('HOOPOE_PHP_SRC') . '/' . str_replace('\\', '/', substr($class, strlen('Hoopoe\\'))) . '.php';
                if (str_starts_with($class, 'Hoopoe\\') && is_file($file)) {
                    require $file;
                }
            });
            $redis = new Redis();
            $redis->connect('127.0.0.1', (int) getenv('REDIS_PORT'));
            $redis->auth([getenv('REDIS_USER'), getenv('REDIS_PASSWORD')]);
            $results = (new Hoopoe\Client($redis, 'hoopoe'))->enqueueBatch([
                ['type' => 'diag.record', 'payload' => ['key' => 'hoopoe:acl:k', 'member' => 'php-batch']],
                ['type' => 'diag.record', 'payload' => ['key' => 'hoopoe:acl:k', 'member' => 'php-batch-later'] + (getenv('HOOPOE_LATER') === '1' ? ['in' => 1] : [])],
            ]);
            echo count(array_filter($results, static fn ($r) => $r instanceof Hoopoe\Enqueued)) === 2 ? "ok\n" : "not ok\n";
            """#
        let process = try ChildProcess(php, ["-r", script], environment: [
            "REDIS_PORT": "\(server.port)", "REDIS_USER": user, "REDIS_PASSWORD": password, "HOOPOE_LATER": later ? "1" : "0",
            "HOOPOE_PHP_SRC": BuiltProducts.projectRoot.appendingPathComponent("jobs/clients/php/src").path,
        ])
        let status = await process.wait(timeout: .seconds(30))
        return (status ?? -1, process.output)
    }

    @Test func everyRoleRunsUnderItsDocumentedACL() async throws {
        let users = try Self.documentedUsers()
        // The dashboard's user: RedisACLDashboardTests.
        #expect(Set(users.keys) == ["hoopoe-worker", "hoopoe-enqueuer", "hoopoe-health", "hoopoe-dashboard"])
        let server = try RedisServer()
        try await Self.create(users, on: server)
        let redis = try RedisClient(url: server.url)  // the default user, for the test's own looks
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: "hoopoe")
        let workerEnvironment = Self.environment(server, user: "hoopoe-worker")

        let schedule = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-acl-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: schedule) }
        try """
            tasks:
              - name: acl.tick
                cron: "* * * * * *"
                type: diag.record
                payload: {key: "hoopoe:acl:tick", member: "t"}
            """.write(to: schedule, atomically: true, encoding: .utf8)
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default"], environment: workerEnvironment)
        defer { worker.signal(SIGKILL) }
        let scheduler = try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", schedule.path], environment: workerEnvironment)
        defer { scheduler.signal(SIGKILL) }
        #expect(try await eventually(timeout: .seconds(15)) { try await jobs.liveProcesses().count == 2 }, "\(worker.output)\(scheduler.output)")
        // The worker's user loaded the function library (FCALL_RO to check, FUNCTION LOAD).
        #expect(try await eventually(timeout: .seconds(15)) {
            (try? await redis.send("FCALL_RO", "hoopoe_library_version", "0").string?.count) == 40
        }, "\(worker.output)\(scheduler.output)")

        // A service, as the clients enqueue: a plain XADD, and FCALL hoopoe_enqueue (later and unique), under the
        // services' line alone.
        let service = try RedisClient(url: "redis://hoopoe-enqueuer:\(Self.password)@127.0.0.1:\(server.port)/0")
        defer { service.close() }
        try await service.send("XADD", "hoopoe:{default}:stream", "*", "job", #"{"id":"acl-xadd","type":"diag.record","queue":"default","payload":{"key":"hoopoe:acl:k","member":"xadd"},"attempt":0,"enqueued_at":1795400000}"#)
        for (id, member, runAt, unique) in [("acl-later", "fcall-later", "\(Date().timeIntervalSince1970 + 1)", ""), ("acl-unique", "fcall-unique", "0", "60")] {
            let body = #"{"id":"\#(id)","type":"diag.record","queue":"default","payload":{"key":"hoopoe:acl:k","member":"\#(member)"},"attempt":0,"enqueued_at":1795400000}"#
            var fcall = RedisCommand("FCALL", "hoopoe_enqueue", "5", "hoopoe:{default}:stream", "hoopoe:{default}:scheduled", "hoopoe:{default}:scheduled:jobs")
            fcall.append(contentsOf: ["hoopoe:{default}:unique:\(unique.isEmpty ? "-" : id)", "hoopoe:{default}:once:-", body, id, runAt, unique, "", "0"])
            let reply = try await service.send(fcall)
            #expect(reply.array?.first?.string == (unique.isEmpty ? "scheduled" : "enqueued"), "\(reply)")
        }

        // The PHP client's batch (one transaction) under the services' first line alone.
        var batch = (status: Int32(0), output: "")
        if let php = Self.php {
            batch = try await Self.phpBatch(php, server, user: "hoopoe-enqueuer")
            #expect(batch.status == 0 && batch.output.hasSuffix("ok\n"), "\(batch.output)")
        } else {
            print("RedisACLTests: skipping the PHP client's batch under the enqueuer's ACL: php is not installed (apt-get install -y php-cli php-redis)")
        }

        // A service's waits and event reads need the services' second line: the Python client under the first two
        // lines. Under the first alone, free_credit enqueued the request, the worker granted it, and the wait was
        // refused (BLPOP), an error for a credit given; the events were refused too (XREAD).
        let added = try Self.documentedLines().filter { $0[1] == "hoopoe-enqueuer" && $0[2] != "on" }
        for words in added.dropLast() { try await redis.send(RedisCommand("ACL", words)) }
        let client = try await Self.pythonClient(server, user: "hoopoe-enqueuer")
        #expect(client.status == 0 && client.output.hasSuffix("ok\n"), "\(client.output)")

        // `hoopoe enqueue` needs the last line that adds to the services' user.
        for words in added.suffix(1) { try await redis.send(RedisCommand("ACL", words)) }
        let enqueuer = Self.environment(server, user: "hoopoe-enqueuer")
        let now = try await Self.run(["enqueue", "diag.record", "--payload", #"{"key":"hoopoe:acl:k","member":"now"}"#], enqueuer)
        #expect(now.status == 0 && !now.output.contains("warning"), "\(now.output)")
        let later = try await Self.run(["enqueue", "diag.record", "--payload", #"{"key":"hoopoe:acl:k","member":"later"}"#, "--in", "1s"], enqueuer)
        #expect(later.status == 0, "\(later.output)")
        #expect(try await eventually(timeout: .seconds(15)) {
            let ran = try await redis.send("SMEMBERS", "hoopoe:acl:k").array?.compactMap(\.string) ?? []
            let ticks = try await redis.send("SISMEMBER", "hoopoe:acl:tick", "t").int ?? 0
            let batched: Set<String> = Self.php == nil ? [] : ["php-batch", "php-batch-later"]
            return Set(ran) == Set(["now", "later", "xadd", "fcall-later", "fcall-unique"]).union(batched) && ticks == 1
        }, "worker: \(worker.output) scheduler: \(scheduler.output)")
        try await Task.sleep(for: .seconds(2.5))  // a recovery pass (XAUTOCLAIM) and a few heartbeats under the ACL

        let health = Self.environment(server, user: "hoopoe-health")
        let deployment = try await Self.run(["health-check", "--schedule", schedule.path], health)
        #expect(deployment.status == 0 && !deployment.output.contains("warn    redis_version"), "\(deployment.output)")
        let liveness = try await Self.run(["health-check", "--liveness"], health)
        #expect(liveness.status == 0, "\(liveness.output)")
        let ping = try await Self.run(["ping"], health)
        #expect(ping.status == 0 && ping.output.contains("PONG") && !ping.output.contains("version unknown"), "\(ping.output)")
        // `--canary` with the line that adds to the health user: a canary that ran, and one that timed out (no worker
        // then) and is cancelled; each leaves no key behind.
        for words in try Self.documentedLines() where words[1] == "hoopoe-health" && words[2] != "on" {
            try await redis.send(RedisCommand("ACL", words))
        }
        let canary = try await Self.run(["health-check", "--canary"], health)
        #expect(canary.status == 0 && canary.output.contains("ran on queue default"), "\(canary.output)")

        worker.signal(SIGTERM)
        scheduler.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
        #expect(await scheduler.wait(timeout: .seconds(30)) == 0, "\(scheduler.output)")
        let lateCanary = try await Self.run(["health-check", "--canary", "--canary-timeout", "300ms"], health)
        #expect(lateCanary.status != 0 && lateCanary.output.contains("did not run within") && lateCanary.output.contains("; cancelled"),
                "\(lateCanary.output)")
        #expect(try await redis.send("KEYS", "hoopoe:health:canary:*").array?.isEmpty == true, "a canary's keys are removed after it")
        let left = try await redis.send("XRANGE", "hoopoe:{default}:stream", "-", "+").array ?? []
        #expect(!left.contains { "\($0)".contains("health:canary") }, "the late canary left the queue: \(left)")
        for (name, output) in [("worker", worker.output), ("scheduler", scheduler.output), ("enqueue", now.output + later.output),
                               ("the Python client", client.output), ("the PHP client's batch", batch.output),
                               ("health-check", deployment.output + liveness.output + ping.output + canary.output + lateCanary.output)] {
            #expect(!output.contains("NOPERM") && !output.contains("refused"), "\(name) was refused a command: \(output)")
        }
        // Nor a refusal a role got past without a word (`hoopoe enqueue` fell back from PTTL to the host clock's age):
        // Redis logs every one.
        let refused = (try await redis.send("ACL", "LOG").array ?? []).map { entry in
            let fields = entry.array ?? []
            return stride(from: 0, to: fields.count - 1, by: 2).compactMap { i in
                fields[i].string.map { "\($0)=\(fields[i + 1].string ?? fields[i + 1].int.map(String.init) ?? "?")" }
            }.joined(separator: " ")
        }
        #expect(refused.isEmpty, "Redis's ACL LOG: \(refused)")
    }

    @Test func aRefusedCommandIsNamedAsAPermissionProblem() async throws {
        let server = try RedisServer()
        var users = try Self.documentedUsers()
        // The health user without INFO, and a user that may only PING and read the queue list.
        users["hoopoe-health"] = users["hoopoe-health"]?.filter { $0 != "+info" }
        users["narrow"] = ["SETUSER", "narrow", "on", ">\(Self.password)", "~hoopoe:*", "-@all", "+ping", "+smembers"]
        // A user that may enqueue (a plain XADD) but not read the heartbeats `enqueue` looks at for its warning.
        users["blind"] = ["SETUSER", "blind", "on", ">\(Self.password)", "~hoopoe:*", "-@all", "+ping", "+select", "+xadd"]
        // The workers' user without HSET: a scheduler's heartbeat is refused.
        users["no-hset"] = try #require(users["hoopoe-worker"]).map { $0 == "hoopoe-worker" ? "no-hset" : $0 } + ["-hset"]
        // The services' user as it was documented before the PHP client's batch became one transaction.
        users["no-multi"] = try #require(users["hoopoe-enqueuer"]).map { $0 == "hoopoe-enqueuer" ? "no-multi" : $0 } + ["-multi", "-exec"]
        try await Self.create(users, on: server)
        let health = Self.environment(server, user: "hoopoe-health")

        let ping = try await Self.run(["ping"], health)
        #expect(ping.status == 0, "\(ping.output)")
        #expect(ping.output.contains("refused INFO: the ACL of this user lacks it (NOPERM"), "\(ping.output)")
        #expect(!ping.output.contains("unreachable"))

        let check = try await Self.run(["health-check", "--schedule", noSchedule], health)
        #expect(check.output.contains("warn    redis_version") && check.output.contains("refused INFO"), "\(check.output)")
        #expect(!check.output.contains("too old") && !check.output.contains("unreachable"), "\(check.output)")

        let queues = try await Self.run(["queues"], Self.environment(server, user: "narrow"))
        #expect(queues.status == 1, "\(queues.output)")
        #expect(queues.output.contains("refused SCAN: the ACL of this user lacks it (NOPERM"), "\(queues.output)")

        // hoopoe enqueue's own paths: a plain XADD (pipelined) and the enqueue script (--in).
        let payload = #"{"key":"hoopoe:acl:k","member":"m"}"#
        let narrow = Self.environment(server, user: "narrow")
        let now = try await Self.run(["enqueue", "diag.record", "--payload", payload], narrow)
        #expect(now.status == 1 && now.output.contains("refused XADD: the ACL of this user lacks it (NOPERM"), "\(now.output)")
        let later = try await Self.run(["enqueue", "diag.record", "--payload", payload, "--in", "1m"], narrow)
        #expect(later.status == 1 && later.output.contains("the ACL of this user lacks it"), "\(later.output)")
        // Written, then refused the heartbeat read: the job is in, so the command succeeds and prints its id (a caller
        // that retries on failure would enqueue it twice), and the refusal is a warning.
        let blind = try await Self.run(["enqueue", "diag.record", "--payload", payload], Self.environment(server, user: "blind"))
        #expect(blind.status == 0, "\(blind.output)")
        #expect(blind.output.contains("warning: could not check that a worker serves queue `default`"), "\(blind.output)")
        let admin = try RedisClient(url: server.url)
        defer { admin.close() }
        let entries = try await admin.send("XRANGE", "hoopoe:{default}:stream", "-", "+").array ?? []
        #expect(entries.count == 1, "\(entries)")
        let id = String(try #require(blind.output.split(separator: "\n").first { $0.count == 26 && $0.allSatisfy { $0.isLetter || $0.isNumber } }))
        let stored = String(decoding: entries.first?.array?[1].array?[1].bytes ?? [], as: UTF8.self)
        #expect(stored.contains("\"\(id)\""), "\(blind.output)")

        // The PHP client's batch under a user without MULTI and EXEC: Redis refused MULTI, ran both XADDs one by one and
        // refused EXEC. The client said "not written" (a retry doubled them); it says MULTI was refused and any may be in.
        if let php = Self.php {
            let batch = try await Self.phpBatch(php, server, user: "no-multi", later: false)
            #expect(batch.status != 0 && batch.output.contains("MULTI refused (NOPERM") && batch.output.contains("any may be in")
                    && !batch.output.contains("not written"), "\(batch.output)")
            #expect(try await admin.send("XLEN", "hoopoe:{default}:stream").int == 3, "both jobs of the batch were written")
        } else {
            print("RedisACLTests: skipping the PHP client's batch without MULTI: php is not installed (apt-get install -y php-cli php-redis)")
        }

        // A scheduler whose heartbeat is refused says so: without it, health checks counted it gone with no word why.
        let scheduler = try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", noSchedule], environment: Self.environment(server, user: "no-hset"))
        defer { scheduler.signal(SIGKILL) }
        #expect(try await eventually(timeout: .seconds(10)) { scheduler.output.contains("heartbeat not written") }, "\(scheduler.output)")
        #expect(scheduler.output.contains("the ACL of this user lacks it"), "\(scheduler.output)")
    }

    @Test func aBadDatabaseOrPasswordIsNamedAsSuch() async throws {
        let server = try RedisServer()
        let database = try await Self.run(["ping", "--redis-url", "redis://127.0.0.1:\(server.port)/99"], [:])
        #expect(database.status == 2, "\(database.output)")
        #expect(database.output.contains("database 99 (from the URL) does not exist on this server"), "\(database.output)")
        #expect(!database.output.contains("authentication") && !database.output.contains("login"), "\(database.output)")
        let queues = try await Self.run(["queues", "--redis-url", "redis://127.0.0.1:\(server.port)/99"], [:])
        #expect(queues.status == 2 && queues.output.contains("database 99"), "\(queues.output)")

        let guarded = try RedisServer(arguments: ["--requirepass", "right"])
        let login = try await Self.run(["ping", "--redis-url", "redis://:wrong@127.0.0.1:\(guarded.port)/0"], [:])
        #expect(login.status == 2 && login.output.contains("refused the login"), "\(login.output)")
        #expect(!login.output.contains("wrong"), "the password is never printed: \(login.output)")
    }
}
