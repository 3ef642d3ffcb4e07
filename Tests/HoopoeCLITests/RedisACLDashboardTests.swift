import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// docs/operating.md's `hoopoe-dashboard` user ("Redis ACL"), as the other roles' lines are tested (RedisACLTests):
/// `hoopoe dashboard --read-only` under its first line serves every page, and the dashboard with actions under both
/// lines does every action, with no command refused (Redis's ACL LOG stays empty). The section had no dashboard
/// role: a `+@read` user got 503 "refused TIME" on Overview, Queues and Busy.
@Suite(.serialized) struct RedisACLDashboardTests {
    /// One HTTP request through curl: its status, the redirect's target (empty for none) and the body.
    private static func http(_ url: String, form: String? = nil) async throws -> (status: Int, location: String, body: String) {
        let post = form.map { ["--data", $0] } ?? []
        let curl = try ChildProcess("/usr/bin/env", ["curl", "-s", "--max-time", "20", "-w", "\n%{http_code} %{redirect_url}"] + post + [url])
        guard await curl.wait(timeout: .seconds(30)) == 0 else { throw TestSupportError("curl \(url): \(curl.output)") }
        var lines = curl.output.split(separator: "\n", omittingEmptySubsequences: false)
        let last = lines.removeLast().split(separator: " ", maxSplits: 1)
        return (Int(last.first ?? "") ?? -1, last.count > 1 ? String(last[1]) : "", lines.joined(separator: "\n"))
    }

    /// The notice an action's redirect carries.
    private static func notice(_ location: String) -> String {
        URLComponents(string: location)?.queryItems?.first { $0.name == "notice" }?.value ?? ""
    }

    /// Starts `hoopoe dashboard ARGUMENTS` under `user`; returns it and its base URL once it listens.
    private static func dashboard(_ arguments: [String], server: RedisServer, user: String) async throws -> (ChildProcess, String) {
        let environment = [
            "REDIS_URL": "redis://\(user):\(RedisACLTests.password)@127.0.0.1:\(server.port)/0", "HOOPOE_NAMESPACE": "hoopoe", "LOG_LEVEL": "info",
        ]
        let process = try ChildProcess(BuiltProducts.hoopoe, ["dashboard", "--port", "0"] + arguments, environment: environment)
        var base: String?
        _ = try await eventually(timeout: .seconds(15)) {
            base = process.output.split(separator: "\n").first { $0.hasPrefix("dashboard: http://") }.map { String($0.dropFirst("dashboard: ".count).dropLast()) }
            return base != nil
        }
        guard let base else {
            process.signal(SIGKILL)
            throw TestSupportError("the dashboard did not start: \(process.output)")
        }
        return (process, base)
    }

    /// Puts dead job `id` (of `diag.record`) into `queue`'s dead set, as a worker buries one.
    private static func bury(_ redis: RedisClient, _ jobs: JobQueue, id: String, queue: String) async throws {
        var envelope = JobEnvelope(id: id, type: "diag.record", queue: queue, payload: .object(["key": .string("hoopoe:acl:dead"), "member": .string(id)]),
                                   attempt: 3, maxAttempts: 3, lastError: "boom")
        envelope.deadReason = "boom"
        envelope.diedAt = Date().timeIntervalSince1970 - 60
        let keys = jobs.keys(queue)
        _ = try await redis.pipeline([
            RedisCommand("ZADD", keys.dead, String(envelope.diedAt ?? 0), id),
            RedisCommand("HSET", keys.deadJobs, id, String(decoding: envelope.encoded(), as: UTF8.self)),
        ])
    }

    @Test func theDashboardRunsUnderItsDocumentedACL() async throws {
        let lines = try RedisACLTests.documentedLines().filter { $0[1] == "hoopoe-dashboard" }
        try #require(lines.count == 2 && lines[0][2] == "on", "docs/operating.md creates the dashboard's user, then adds its actions: \(lines)")
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)  // the default user: the test's own writes and looks
        defer { redis.close() }
        try await redis.send(RedisCommand("ACL", lines[0]))
        let jobs = JobQueue(redis: redis, namespace: "hoopoe")

        // Something on every page: a worker serving `default` (Busy, Overview) that ran a job (history, counters) and
        // buried one; on `waiting`, which no worker serves, ready, delayed, unique and dead jobs for the actions.
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default"], environment: [
            "REDIS_URL": server.url, "HOOPOE_NAMESPACE": "hoopoe", "LOG_LEVEL": "warning",
        ])
        defer { worker.signal(SIGKILL) }
        let ran = try await jobs.enqueue(type: "diag.record", payload: .object(["key": .string("hoopoe:acl:ran"), "member": .string("m")])).jobID
        _ = try await redis.send("XADD", "hoopoe:{default}:stream", "*", "job", #"{"id":"acl-bad","type":"diag.record","queue":"default","payload":{},"attempt":0,"enqueued_at":1795400000,"timeout":-5}"#)
        #expect(try await eventually(timeout: .seconds(15)) {
            let info = try await jobs.info(queue: "default")
            return info.dead == 1 && info.ready == 0 && info.inFlight == 0
        }, "\(worker.output)")
        var waiting: [String] = []
        for (member, options) in [
            ("cancel", EnqueueOptions(queue: "waiting")), ("unique", EnqueueOptions(queue: "waiting", uniqueKey: "acl-u")),
            ("run-now", EnqueueOptions.after(.seconds(3600), queue: "waiting")), ("delete", EnqueueOptions.after(.seconds(3600), queue: "waiting")),
            ("clear", EnqueueOptions(queue: "cleared")),
        ] {
            waiting.append(try await jobs.enqueue(type: "diag.record", payload: .object(["key": .string("hoopoe:acl:k"), "member": .string(member)]), options: options).jobID)
        }
        for id in ["retry", "delete", "selected-1", "selected-2", "all-1", "all-2"] { try await Self.bury(redis, jobs, id: "acl-\(id)", queue: "waiting") }
        let schedule = try TemporaryFiles.write(
            "tasks:\n  - name: acl.tick\n    cron: \"0 0 3 * * *\"\n    type: diag.record\n    queue: waiting\n    payload: {key: \"hoopoe:acl:tick\", member: \"t\"}\n",
            prefix: "hoopoe-acl-dashboard-", suffix: ".yaml")

        // Read-only, under the first line alone: every page.
        let pages = [
            "/", "/queues", "/busy", "/scheduled?queue=waiting", "/dead?queue=waiting", "/dead?queue=default", "/job?id=\(ran)",
            "/job?queue=waiting&id=\(waiting[0])", "/job?id=acl-retry", "/search?type=diag.record", "/periodic", "/providers", "/queues/clear?queue=waiting",
        ]
        let (reader, readerURL) = try await Self.dashboard(["--read-only", "--schedule", schedule], server: server, user: "hoopoe-dashboard")
        defer { reader.signal(SIGKILL) }
        for path in pages {
            let page = try await Self.http(readerURL + path)
            #expect(page.status == 200 && !page.body.contains("refused"), "read-only \(path): \(page.status) \(page.body)")
        }
        reader.signal(SIGTERM)
        _ = await reader.wait(timeout: .seconds(10))

        // With actions, under both lines: every action, then every page again.
        try await redis.send(RedisCommand("ACL", lines[1]))
        let (actor, url) = try await Self.dashboard(["--schedule", schedule], server: server, user: "hoopoe-dashboard")
        defer { actor.signal(SIGKILL) }
        let token = try #require(try await Self.http(url + "/dead?queue=waiting").body.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/)?.1)
        let actions: [(String, String)] = [
            ("/queues/pause", "queue=waiting"), ("/queues/resume", "queue=waiting"),
            ("/dead/action", "queue=waiting&do=retry&id=acl-retry"), ("/dead/action", "queue=waiting&do=delete&id=acl-delete"),
            ("/dead/action", "queue=waiting&do=retry&id=acl-selected-1&id=acl-selected-2"),
            ("/scheduled/run-now", "queue=waiting&id=\(waiting[2])"), ("/scheduled/delete", "queue=waiting&id=\(waiting[3])"),
            ("/job/cancel", "queue=waiting&id=\(waiting[0])"), ("/job/cancel", "queue=waiting&id=\(waiting[1])"), ("/periodic/enqueue", "task=acl.tick"),
        ]
        for (path, form) in actions {
            let reply = try await Self.http(url + path, form: "csrf=\(token)&" + form)
            let notice = Self.notice(reply.location)
            #expect(reply.status == 303 && !notice.isEmpty && !notice.contains("refused") && !reply.body.contains("refused"),
                    "\(path) \(form): \(reply.status) \(notice) \(reply.body)")
        }
        // The background runs: retry all, then a clear; each to its end.
        for (path, form) in [("/dead/action", "queue=waiting&do=retry-all"), ("/queues/clear", "queue=cleared")] {
            let started = try await Self.http(url + path, form: "csrf=\(token)&" + form)
            #expect(started.status == 303 && started.location.contains("/progress?run="), "\(path): \(started)")
            var page = ""
            _ = try await eventually(timeout: .seconds(15)) {
                page = try await Self.http(started.location).body
                return page.contains("bulk-state finished") || page.contains("bulk-state failed")
            }
            #expect(page.contains("bulk-state finished") && !page.contains("refused"), "\(path): \(page)")
        }
        for path in pages {
            let page = try await Self.http(url + path)
            #expect(page.status == 200 && !page.body.contains("refused"), "\(path): \(page.status) \(page.body)")
        }
        #expect(try await jobs.info(queue: "waiting").dead == 0, "retried and deleted")
        #expect(try await jobs.info(queue: "cleared").ready == 0, "cleared")

        // Nor a refusal a page got past without a word (the list of queues kept for 30 s): Redis logs every one.
        let refused = (try await redis.send("ACL", "LOG").array ?? []).map { "\($0)" }
        #expect(refused.isEmpty, "Redis's ACL LOG: \(refused)")
        actor.signal(SIGTERM)
        #expect(await actor.wait(timeout: .seconds(10)) == 0, "\(actor.output)")
    }
}
