import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `queues`, `dead`, `job` and `schedule` against a small seeded namespace.
struct AdminCommandTests {
    @Test func queuesShowsDepthAndDeadCounts() async throws {
        let h = try CLIHarness()
        for _ in 0..<3 { try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail")) }
        try await h.seedDead(id: "D1", queue: "mail", payload: .object([:]), reason: "boom")
        let (status, json) = try await h.json(["queues", "--json"])
        #expect(status == 0)
        let mail = (json["queues"]?.arrayValue ?? []).first { $0["name"] == .string("mail") }
        #expect(mail?["ready"] == .integer(3))
        #expect(mail?["dead"] == .integer(1))
        #expect(json["workers"]?.arrayValue?.isEmpty == true)
        let (textStatus, text) = try await h.run(["queues"])
        #expect(textStatus == 0)
        #expect(text.contains("mail") && text.contains("No live workers."), "\(text)")
    }

    /// `hoopoe queues` shows each worker's state (STATE, `"state"` in --json): a quiet worker (SIGTSTP) read
    /// `0/20 … critical,default,low 4s ago`, as one that served them; a worker of an older release (no state) runs.
    @Test func queuesShowsAQuietWorkerQuiet() async throws {
        let h = try CLIHarness()
        try await Heartbeat(kind: "worker", id: "w-quiet", jobs: h.jobs) {
            ["busy": "0", "concurrency": "20", "queues": "critical,default,low", ProcessRecord.stateField: "quiet"]
        }.beat()
        try await Heartbeat(kind: "worker", id: "w-old", jobs: h.jobs) { ["busy": "0", "concurrency": "4", "queues": "default"] }.beat()
        let (status, json) = try await h.json(["queues", "--json"])
        #expect(status == 0)
        let workers = json["workers"]?.arrayValue ?? []
        #expect(workers.first { $0["id"] == .string("w-quiet") }?["state"] == .string("quiet"), "\(json)")
        #expect(workers.first { $0["id"] == .string("w-old") }?["state"] == .string("running"), "\(json)")
        let (textStatus, text) = try await h.run(["queues"])
        #expect(textStatus == 0)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("WORKER") && $0.contains(" STATE ") }, "\(text)")
        let quietLine = try #require(lines.first { $0.hasPrefix("w-quiet") }, "\(text)")
        #expect(quietLine.contains("critical,default,low  quiet "), "\(quietLine)")
        #expect(lines.first { $0.hasPrefix("w-old") }?.split(separator: " ").contains("running") == true, "\(text)")
    }

    @Test func deadListShowRetryDelete() async throws {
        let h = try CLIHarness()
        let phone = "+989121234567"
        try await h.seedDead(id: "D1", payload: .object(["receptor": .string(phone)]), reason: "provider refused \(phone)")
        try await h.seedDead(id: "D2", payload: .object([:]), reason: "other")

        let (listStatus, list) = try await h.run(["dead", "list"])
        #expect(listStatus == 0)
        #expect(list.contains("D1") && list.contains("D2") && list.contains("provider refused"), "\(list)")
        #expect(!list.contains("1234567"), "phone numbers are masked: \(list)")

        let (showStatus, show) = try await h.run(["dead", "show", "D1"])
        #expect(showStatus == 0)
        #expect(show.contains("dead reason:") && show.contains("attempts:    25 of 25"), "\(show)")
        #expect(!show.contains("1234567"), "\(show)")
        let (missing, missingOutput) = try await h.run(["dead", "show", "NOPE"])
        #expect(missing == 1)
        #expect(missingOutput.contains("no dead job NOPE"))

        let (retry, _) = try await h.run(["dead", "retry", "D1", "--queue", "default"])
        #expect(retry == 0)
        let info = try await h.jobs.info(queue: "default")
        #expect(info.dead == 1 && info.ready == 1)
        #expect(try await h.run(["dead", "retry", "D1"]).status == 1, "no longer dead")

        #expect(try await h.run(["dead", "delete", "D2"]).status == 0)
        #expect(try await h.jobs.info(queue: "default").dead == 0)
        #expect(try await h.run(["dead", "delete", "D2"]).status == 1)
    }

    /// A client may put a phone number in any field, the type included: an unknown type is kept as sent, and a
    /// refused retry quotes the field it breaks. Neither reaches the output unmasked. Before, `dead list`'s TYPE column,
    /// `dead show` (and its `--json`) and `dead retry`'s refusal printed the number whole. (A job's id is its handle,
    /// shown as it is.)
    @Test func deadJobsShowNoPhoneNumberInTheirTypeOrARefusal() async throws {
        let h = try CLIHarness()
        let k = h.jobs.keys("default")
        for (id, type) in [("T1", "09121234567"), ("T2", "+98 912 123 4567")] {
            var envelope = JobEnvelope(id: id, type: type, queue: "default", payload: .object([:]), attempt: 1, maxAttempts: 1, lastError: "boom")
            envelope.deadReason = "boom"
            envelope.diedAt = Date().timeIntervalSince1970 - 60
            var hset = RedisCommand("HSET", k.deadJobs, id)
            hset.append(bytes: envelope.encoded())
            _ = try await h.redis.pipeline([RedisCommand("ZADD", k.dead, "1", id), hset, RedisCommand("SADD", h.jobs.global.queues, "default")])
        }
        for command in [["dead", "list"], ["dead", "show", "T1"], ["dead", "show", "T1", "--json"], ["dead", "show", "T2"], ["dead", "retry", "T2"]] {
            let (status, output) = try await h.run(command)
            #expect(!output.contains("9121234567") && !output.contains("912 123 4567"), "\(command): \(output)")
            #expect(output.contains("***"), "\(command) shows the masked type: \(output)")
            if command[1] == "retry" { #expect(status == 1 && output.contains("cannot be retried"), "\(output)") }
        }
    }

    /// A declared type's payload shown by `job show` and `dead show` loses the usual names of secrets a client put in it
    /// (decision 0107), while `sms.send`'s template `token` is shown: `job show` printed an `api_key` whole.
    @Test func aDeclaredTypesPayloadIsShownWithoutKeysNamedLikeSecrets() async throws {
        let h = try CLIHarness()
        let payload: JSONValue = [
            "message_id": "m1", "phone": "09121234567", "template": "gift_reminder", "tokens": ["token": "SaraTok", "token20": "x"],
            "api_key": "k-9f8e7d", "meta": ["password": "hunter2"],
        ]
        guard case .enqueued(let id) = try await h.jobs.enqueue(type: "sms.send", payload: payload) else { Issue.record("not enqueued"); return }
        try await h.seedDead(id: "D1", type: "sms.send", payload: payload, reason: "boom")
        for command in [["job", "show", id], ["job", "show", id, "--json"], ["dead", "show", "D1"], ["dead", "show", "D1", "--json"]] {
            let (status, output) = try await h.run(command)
            #expect(status == 0, "\(command): \(output)")
            #expect(!output.contains("k-9f8e7d") && !output.contains("hunter2") && !output.contains("api_key"), "\(command): \(output)")
            #expect(output.contains("SaraTok") && output.contains("gift_reminder"), "\(command) shows the template's token: \(output)")
        }
    }

    /// Every command on one job id says which queues it searched when the id is not there, and exits 1.
    @Test func aMissingIdNamesTheQueuesSearched() async throws {
        let h = try CLIHarness()
        try await h.seedDead(id: "D1", queue: "mail", payload: .object([:]), reason: "boom")
        for (command, message) in [
            (["dead", "show"], "no dead job NOPE in any queue (mail)"), (["dead", "retry"], "no dead job NOPE in any queue (mail)"),
            (["dead", "delete"], "no dead job NOPE in any queue (mail)"),
            (["job", "show"], "no job NOPE in any queue (mail) (finished jobs are kept for HOOPOE_HISTORY_MAX_AGE, default 24 h)"),
            (["job", "cancel"], "no waiting job NOPE in any queue (mail)"),
            (["job", "run-now"], "no scheduled job NOPE in any queue (mail)"),
        ] {
            let (status, output) = try await h.run(command + ["NOPE"])
            #expect(status == 1 && output.contains(message), "\(command): \(output)")
        }
        let (status, output) = try await h.run(["job", "cancel", "D1", "--queue", "mail"])
        #expect(status == 1 && output.contains("no waiting job D1 in queue mail (it is dead on queue mail; see `hoopoe dead show D1`)"), "\(output)")
    }

    /// A `--queue` no queue can have (a typo, a pasted key) is refused naming the option, exit 64, as `queue pause`
    /// refuses it: it read "retried 0" or "No dead jobs." with exit 0.
    @Test(arguments: [["dead", "retry-all"], ["dead", "list"], ["job", "show", "some-id"], ["job", "cancel", "some-id"]])
    func aQueueNameNoQueueCanHaveIsRefused(command: [String]) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(command + ["--queue", "sms send"])
        #expect(status == 64 && output.contains("--queue 'sms send'"), "\(command): \(output)")
    }

    @Test func deadRetryAllEmptiesTheDeadSet() async throws {
        let h = try CLIHarness()
        for id in ["A", "B", "C"] { try await h.seedDead(id: id, payload: .object([:]), reason: "x") }
        let (status, output) = try await h.run(["dead", "retry-all"])
        #expect(status == 0)
        #expect(output.contains("retried 3"))
        #expect(!output.contains("skipped"), "\(output)")
        let info = try await h.jobs.info(queue: "default")
        #expect(info.dead == 0 && info.ready == 3)
    }

    /// What cannot run again stays dead, and the command says how many and where to look.
    @Test func deadRetryAllSaysWhatItLeft() async throws {
        let h = try CLIHarness()
        try await h.seedDead(id: "A", payload: .object([:]), reason: "x")
        try await h.redis.send("ZADD", h.jobs.keys("default").dead, String(Date().timeIntervalSince1970 - 60), "kept-as-text")
        try await h.redis.send("HSET", h.jobs.keys("default").deadJobs, "kept-as-text", "not json")
        let (status, output) = try await h.run(["dead", "retry-all"])
        #expect(status == 0)
        #expect(output.contains("retried 1 dead job(s): default 1"), "\(output)")
        #expect(output.contains("skipped 1 (default 1): left dead as unable to run again, or gone meanwhile; `hoopoe dead show ID` says why one cannot run"), "\(output)")
    }

    /// With `HOOPOE_HISTORY_MAX_JOBS=0` (no job history), a cancel records nothing: before, `hoopoe job cancel` (and
    /// the dashboard, the canary, the domain jobs' cancels) wrote a `cancelled` record with its payload, which no worker
    /// ever trimmed, since none kept a history.
    @Test func aCancelWithHistoryOffRecordsNothing() async throws {
        let h = try CLIHarness()
        let id = try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(3600))).createdID)
        let (status, output) = try await h.run(["job", "cancel", id], environment: ["HOOPOE_HISTORY_MAX_JOBS": "0"])
        #expect(status == 0 && output.contains("cancelled job \(id)"), "\(output)")
        let k = h.jobs.keys("default")
        #expect(try await h.redis.send("EXISTS", k.historyJobs, k.historyIDs).int == 0, "no history record")
    }

    @Test func jobShowAndCancelAScheduledJob() async throws {
        let h = try CLIHarness()
        let result = try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(3600)))
        let id = try #require(result.createdID)
        let (showStatus, show) = try await h.run(["job", "show", id])
        #expect(showStatus == 0)
        #expect(show.contains("state:       scheduled"), "\(show)")
        let (jsonStatus, json) = try await h.json(["job", "show", id, "--json"])
        #expect(jsonStatus == 0 && json["state"] == .string("scheduled") && json["envelope"]?["id"] == .string(id))
        // With REDIS_WAIT_REPLICAS and no replica to confirm it: one line saying so, exit 1 (the cancel is written).
        let (durableStatus, durable) = try await h.run(["job", "cancel", id], environment: ["REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "50"])
        #expect(durableStatus == 1 && durable.contains("hoopoe: Redis") && durable.contains("notReplicated"), "\(durable)")
        #expect(try await h.jobs.info(queue: "default").scheduled == 0)
        // Cancelled already: said from its history record, without searching the stream again.
        let (againStatus, again) = try await h.run(["job", "cancel", id])
        #expect(againStatus == 1 && again.contains("(it finished on queue default: cancelled; see `hoopoe job show \(id)`)"), "\(again)")
        // Job history keeps the cancelled job: it is found, as cancelled.
        let (showAfterStatus, showAfter) = try await h.run(["job", "show", id])
        #expect(showAfterStatus == 0 && showAfter.contains("state:       finished: cancelled"), "\(showAfter)")
    }

    /// `job run-now` on a paused queue: the job is moved, and the message says it runs once the queue is resumed (it
    /// said "ready to run now", and nothing ran).
    @Test func runNowOnAPausedQueueSaysItWaitsForTheResume() async throws {
        let h = try CLIHarness()
        let id = try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object(["key": "k", "member": "m"]), options: .after(.seconds(3600))).createdID)
        _ = try await h.jobs.pause(queue: "default")
        let (status, output) = try await h.run(["job", "run-now", id])
        #expect(status == 0 && output.contains("the queue is paused, so it runs once it is resumed (hoopoe queue resume default)"), "\(output)")
        #expect(try await h.jobs.info(queue: "default").ready == 1)
    }

    /// `hoopoe job run-now`: a job delayed by an hour runs at once on a live worker, with its attempt and unique lock
    /// as they were; a job that is not scheduled is left alone, and the message says where it is (exit 1).
    @Test func runNowRunsADelayedJobAtOnceAndSaysWhereAnUnscheduledJobIs() async throws {
        let h = try CLIHarness()
        let worker = try await h.startWorker(["--shutdown-timeout", "0.2"])
        let payload: JSONValue = .object(["key": .string("\(h.namespace):k"), "member": "later"])
        var options = EnqueueOptions.after(.seconds(3600))
        options.uniqueKey = "run-now-test"
        let id = try #require(try await h.jobs.enqueue(type: "diag.record", payload: payload, options: options).createdID)
        #expect(try await h.jobs.info(queue: "default").scheduled == 1)
        #expect(try await h.jobs.enqueue(type: "diag.record", payload: payload, options: options).createdID == nil, "its unique lock holds")

        let (status, output) = try await h.run(["job", "run-now", id])
        #expect(status == 0 && output.contains("job \(id) on queue default is ready to run now"), "\(output)")
        #expect(try await h.eventually { try await h.redis.send("SISMEMBER", "\(h.namespace):k", "later").int == 1 }, "\(worker.output)")
        #expect(try await h.jobs.info(queue: "default").scheduled == 0)
        // Its unique lock is released by its run, as for a job run at its time: a new one goes in.
        #expect(try await h.eventually { try await h.jobs.enqueue(type: "diag.record", payload: payload, options: options).createdID != nil })

        let (again, againOutput) = try await h.run(["job", "run-now", id])
        #expect(again == 1 && againOutput.contains("job \(id) on queue default is not scheduled: it finished (processed)"), "\(againOutput)")
        try await h.seedDead(id: "D1", payload: .object([:]), reason: "boom")
        let (dead, deadOutput) = try await h.run(["job", "run-now", "D1"])
        #expect(dead == 1 && deadOutput.contains("it is dead; `hoopoe dead retry D1` puts it back on its queue"), "\(deadOutput)")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(10)) == 0)
    }

    /// Issue 11: a score or a time in Redis is whatever a writer put there. Infinite or huge ones are shown as `?`
    /// or clamped, never a trap converting them to `Int`.
    @Test func hugeAndInfiniteTimesFromRedisAreShownNotTrappedOn() async throws {
        let h = try CLIHarness()
        let id = try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(3600))).createdID)
        try await h.redis.send("ZADD", h.jobs.keys("default").scheduled, "+inf", id)
        let (showStatus, show) = try await h.run(["job", "show", id])
        #expect(showStatus == 0 && show.contains("state:       scheduled (at ?"), "\(show)")

        var envelope = JobEnvelope(id: "D-huge", type: "diag.record", queue: "default", payload: .object([:]), enqueuedAt: 1e300)
        envelope.deadReason = "seeded"
        envelope.diedAt = 1e300
        envelope.runAt = -1e300
        var hset = RedisCommand("HSET", h.jobs.keys("default").deadJobs, "D-huge")
        hset.append(bytes: envelope.encoded())
        _ = try await h.redis.pipeline([RedisCommand("ZADD", h.jobs.keys("default").dead, "1e300", "D-huge"), hset, RedisCommand("SADD", h.jobs.global.queues, "default")])
        let (listStatus, list) = try await h.run(["dead", "list"])
        #expect(listStatus == 0 && list.contains("D-huge"), "\(list)")
        let (deadStatus, dead) = try await h.run(["dead", "show", "D-huge"])
        #expect(deadStatus == 0 && dead.contains("died:        ?"), "\(dead)")
        let (queuesStatus, queues) = try await h.run(["queues"])
        #expect(queuesStatus == 0, "\(queues)")
    }

    /// One runner: a minute-long job runs, the next waits fetched in the worker's buffer. The fetched one is cancelled
    /// (the worker answers the request, decision 0089), the running one is not interrupted (exit 3).
    @Test func cancellingAFetchedJobCancelsItAndARunningJobExits3() async throws {
        let h = try CLIHarness()
        let worker = try await h.startWorker(["--shutdown-timeout", "0.2", "--concurrency", "1"])
        // A minute: three CLI runs and a signal must come while it runs, on a loaded machine; the 0.2 s shutdown window
        // interrupts it, so the test does not wait it out.
        let payload: JSONValue = .object(["key": .string("\(h.namespace):k"), "member": "m", "sleep_ms": .integer(60_000)])
        let id = try #require(try await h.jobs.enqueue(type: "diag.record", payload: payload).createdID)
        let next = try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object(["key": .string("\(h.namespace):k"), "member": "next"])).createdID)
        // Running, not only fetched: the heartbeat's `busy` counts running jobs (a beat every 5 s).
        #expect(try await h.eventually(timeout: .seconds(15)) { try await h.jobs.liveProcesses().first?.fields["busy"] == "1" }, "\(worker.output)")
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 2 }, "the next job waits fetched")

        // A long wait: the answer comes with the worker's next round (0.5 s), however late a loaded machine makes it.
        let (nextStatus, nextOutput) = try await h.run(["job", "cancel", next, "--wait", "20"])
        #expect(nextStatus == 0 && nextOutput.contains("cancelled job \(next) on queue default"), "\(nextOutput)")
        let (_, nextShow) = try await h.run(["job", "show", next])
        #expect(nextShow.contains("state:       finished: cancelled"), "\(nextShow)")

        let (status, output) = try await h.run(["job", "cancel", id, "--wait", "20"])
        #expect(status == 3 && output.contains("is running on a worker; it is not interrupted"), "\(output)")
        let (_, show) = try await h.run(["job", "show", id])
        #expect(show.contains("state:       running"), "\(show)")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(10)) == 0)
        #expect(try await h.run(["job", "cancel", id]).status == 0, "handed back at shutdown, so it waits again")
        #expect(try await h.redis.send("HGETALL", "\(h.namespace):k:count").array?.count == 0, "neither ran to its end")
    }

    @Test func unreachableRedisExits2ForAdminCommands() async throws {
        let h = try CLIHarness()
        let server = try RedisServer()
        server.stop()
        let (status, output) = try await h.run(["queues", "--redis-url", server.url])
        #expect(status == 2)
        #expect(output.contains("127.0.0.1:\(server.port) unreachable"), "\(output)")
    }

    @Test func scheduleListShowsNextRunInTheTasksZone() async throws {
        let h = try CLIHarness()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-schedule-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
            tasks:
              - name: morning
                cron: "0 9 * * *"
                time_zone: Asia/Tehran
                type: diag.record
                payload: {key: k, member: m}
              - name: off
                cron: "* * * * *"
                time_zone: UTC
                type: diag.record
                payload: {key: k, member: m}
                enabled: false
            """.write(to: file, atomically: true, encoding: .utf8)
        let (status, output) = try await h.run(["schedule", "list", "--schedule", file.path])
        #expect(status == 0, "\(output)")
        let morning = output.split(separator: "\n").first { $0.hasPrefix("morning") }.map(String.init) ?? ""
        #expect(morning.contains("09:00:00 +03:30"), "\(output)")
        let off = output.split(separator: "\n").first { $0.hasPrefix("off") }.map(String.init) ?? ""
        #expect(off.contains(" no ") && off.hasSuffix("-"), "\(output)")
        try "tasks:\n  - name: bad\n    cron: \"61 * * * *\"\n    type: x\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try await h.run(["schedule", "list", "--schedule", file.path]).status == 1)
        // A payload its type's handler refuses: the scheduler would stop with exit 78, so the listing fails too.
        try "tasks:\n  - name: wrong\n    cron: \"* * * * *\"\n    type: diag.record\n    payload: {member: 5}\n".write(to: file, atomically: true, encoding: .utf8)
        let refused = try await h.run(["schedule", "list", "--schedule", file.path])
        #expect(refused.status == 1 && refused.output.contains("task 'wrong': payload:"), "\(refused.output)")
    }
}
