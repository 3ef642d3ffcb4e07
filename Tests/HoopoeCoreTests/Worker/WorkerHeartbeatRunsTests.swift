import Foundation
@testable import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// A worker's heartbeat lists the jobs it runs and when each run started (``ProcessRun``), so the dashboard's Busy page
/// can show a run's start and tell a running job from one waiting in the worker's buffer. Before, a worker recorded no
/// run's start anywhere: the page could only show when the lease was last renewed.
@Suite struct WorkerHeartbeatRunsTests {
    /// A real worker runs a job held at a gate: its beat lists the job's queue and entry id with a start between the
    /// enqueue and the beat, nothing of the job's id or payload; once the job ended, the next beat lists nothing.
    @Test func aRunningJobIsListedWithItsStartAndGoneOnceItEnds() async throws {
        let h = try EngineHarness()
        let gate = TestGate()
        let (worker, task) = h.startWorker(.diagnostic(gatedBy: gate), options: .fastTest(concurrency: 2))
        let heartbeat = Heartbeat(kind: "worker", id: worker.options.consumer, jobs: h.jobs) { worker.heartbeatFields }
        let before = Date().timeIntervalSince1970
        let id = try #require(try await h.jobs.enqueue(
            type: GatedRecordJob.type, payload: .object(["key": .string("\(h.namespace):rec"), "member": .string("marker-2f9c41")])).createdID)
        #expect(try await h.eventually { gate.waiting == 1 }, "the job runs")
        try await Task.sleep(for: .milliseconds(300))  // a run under way for a while: its start is not the beat's time
        let beforeBeat = Date().timeIntervalSince1970
        try await heartbeat.beat()

        let held = try await h.jobs.store.heldEntries(queue: "default", limit: 10)
        #expect(held.count == 1)
        let record = try #require(try await h.jobs.liveProcesses().first { $0.id == worker.options.consumer })
        let runs = try #require(record.runs, "\(record.fields)")
        #expect(runs.count == 1 && record.fields["busy"] == "1" && record.listsEveryRun, "\(record.fields)")
        let run = try #require(runs.first)
        #expect(run.queue == "default" && run.entryID == held.first?.entryID, "\(run) vs \(held.map(\.entryID))")
        // Printed with milliseconds: allow for the rounding.
        #expect(
            run.startedAt >= before - 0.001 && run.startedAt <= beforeBeat - 0.25,
            "started \(run.startedAt), enqueued after \(before), beat at \(beforeBeat)")
        let ranFor = try #require(record.runningFor(run))
        #expect(ranFor >= 0.25 && ranFor < 30, "\(ranFor)")
        #expect(record.longestRun == ranFor)
        // Ids and times only: not the job's id, nothing of its payload.
        let values = try await h.redis.send("HGETALL", "\(h.namespace):process:\(worker.options.consumer)").array?.compactMap(\.string) ?? []
        #expect(!values.joined(separator: "\n").contains(id) && !values.joined(separator: "\n").contains("marker-2f9c41"), "\(values)")

        gate.open()
        #expect(try await h.eventually { try await h.recorded("\(h.namespace):rec")["marker-2f9c41"] == 1 })
        #expect(try await h.eventually { worker.busy == 0 })
        try await heartbeat.beat()
        let after = try #require(try await h.jobs.liveProcesses().first { $0.id == worker.options.consumer })
        #expect(after.runs == [] && after.fields["busy"] == "0" && after.listsEveryRun && after.longestRun == nil, "\(after.fields)")
        worker.shutdown()
        try await task.value
    }

    /// Past ``ProcessRun/listedLimit`` runs the beat lists the oldest, oldest first, and says (by `busy`, counted in the
    /// same instant) that the list was cut.
    @Test func aBeatListsTheHundredOldestRunsAndSaysItIsCut() async throws {
        let h = try EngineHarness()
        let worker = Worker(jobs: h.jobs, registry: .diagnostic, options: .fastTest(concurrency: 150), logger: EngineHarness.quietLogger)
        var jobs: [RunningJob] = []
        for index in 0..<150 {
            jobs.append(RunningJob(key: "\(index + 1)-0", queue: "default", slot: index, timeout: .seconds(60)))
            if index == 39 { try await Task.sleep(for: .milliseconds(5)) }  // the 40 oldest clearly older than the rest
        }
        for job in jobs.shuffled() { #expect(!worker.lifecycle.register(job)) }
        defer { for job in jobs { worker.lifecycle.unregister(job) } }

        try await Heartbeat(kind: "worker", id: "w-many", jobs: h.jobs) { worker.heartbeatFields }.beat()
        let record = try #require(try await h.jobs.liveProcesses().first { $0.id == "w-many" })
        let runs = try #require(record.runs)
        #expect(runs.count == ProcessRun.listedLimit && record.fields["busy"] == "150" && !record.listsEveryRun)
        #expect(runs.map(\.startedAt) == runs.map(\.startedAt).sorted(), "oldest first")
        let listed = Set(runs.map(\.entryID))
        #expect((1...40).allSatisfy { listed.contains("\($0)-0") }, "the oldest are listed: \(runs.map(\.entryID))")
        #expect((record.fields[ProcessRun.field] ?? "").utf8.count < 6_000, "the field stays small")
    }

    /// The field's form: the `limit` oldest, oldest first; a piece that does not read as a run is left out.
    @Test func theFieldKeepsTheOldestAndReadsBack() {
        let runs = (0..<5).map { ProcessRun(queue: "q\($0 % 2)", entryID: "\($0)-1", startedAt: 1_700_000_000.5 - Double($0)) }
        let field = ProcessRun.field(runs, limit: 3)
        #expect(field == "q0 4-1 1699999996.500,q1 3-1 1699999997.500,q0 2-1 1699999998.500")
        #expect(ProcessRun.parse(field) == Array(runs.reversed().prefix(3)))
        #expect(ProcessRun.parse("") == [])
        #expect(ProcessRun.parse("default 1-0 nan,bad,default 2-0 12.5") == [ProcessRun(queue: "default", entryID: "2-0", startedAt: 12.5)])
    }

    /// A start is written as `%.3f` would write it, from whole milliseconds (no `String(format:)` a run a beat), and
    /// reads back to the millisecond.
    @Test func aStartIsWrittenWithMillisecondsAsPrintfWould() {
        let starts: [Double] = [
            0, 0.0004, 0.0005, 0.0625, 0.0635, 2.5e-4, 0.001, 0.009, 0.01, 0.099, 0.1, 0.9994, 0.9995, 0.9999, 1, 12.5, 59.999, 1_700_000_000.5,
            1_700_000_000.0004, 1_700_000_000.9996, 1_733_580_000.123, 4_102_444_800.007, 99_999_999_999.999, -1.5, .infinity, .nan,
        ]
        for start in starts {
            #expect(ProcessRun.secondsText(start) == String(format: "%.3f", start), "\(start)")
        }
        #expect(ProcessRun.secondsText(0) == "0.000" && ProcessRun.secondsText(0.9999) == "1.000")
        #expect(ProcessRun.secondsText(1_700_000_000.9996) == "1700000001.000")
        #expect(ProcessRun.secondsText(1_733_580_000.05) == "1733580000.050")
        for milliseconds in stride(from: 1_733_580_000_000, to: 1_733_580_002_000, by: 7) {
            let start = Double(milliseconds) / 1000
            let text = ProcessRun.secondsText(start)
            #expect(text == String(format: "%.3f", start), "\(start)")
            let read = ProcessRun.parse("q \(milliseconds)-0 \(text)")
            #expect(read.count == 1 && ((read.first?.startedAt ?? 0) * 1000).rounded() == Double(milliseconds), "\(text)")
        }
    }

    /// SIGTSTP's ``Worker/quiet()`` reaches the heartbeat: its `state` says `quiet` at the beat ``Heartbeat/beatSoon()``
    /// asks for (here long before the 60 s interval's), and a quiet worker serves none of its queues — the rule of
    /// `hoopoe enqueue`'s and the health check's "no worker serves" — while it still lists them for what must not be
    /// taken from under it (`queue forget`, the retention round's unserved queues). Before, the beat wrote no state and
    /// the quiet worker served its queues on every reader while their jobs waited.
    @Test func aQuietWorkersBeatSaysSoAndItServesNoQueue() async throws {
        let h = try EngineHarness()
        let (worker, task) = h.startWorker(options: .fastTest(queues: ["default", "low"]))
        let heartbeat = Heartbeat(kind: "worker", id: worker.options.consumer, jobs: h.jobs, interval: .seconds(60), ownConnection: true) {
            worker.heartbeatFields
        }
        let beating = Task { await heartbeat.run() }
        defer { beating.cancel() }
        let record = { try await h.jobs.liveProcesses().first { $0.id == worker.options.consumer } }
        #expect(try await h.eventually { try await record() != nil })
        let running = try #require(try await record())
        #expect(running.fields[ProcessRecord.stateField] == "running" && running.workerState == .running && running.fetches, "\(running.fields)")
        #expect(running.serves("low") && running.serves("default") && !running.serves("mail"))
        _ = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):k", member: "m"), options: EnqueueOptions(queue: "low"))

        worker.quiet()
        heartbeat.beatSoon()
        #expect(try await h.eventually(timeout: .seconds(5)) { try await record()?.workerState == .quiet }, "the beat asked for said quiet")
        let quiet = try #require(try await record())
        #expect(!quiet.fetches && !quiet.serves("low") && !quiet.serves("default"), "\(quiet.fields)")
        #expect(quiet.lists("low") && quiet.lists("default") && !quiet.lists("mail"))
        #expect(ProcessRecord.notFetching("low", among: [quiet]) == [quiet])
        #expect(ProcessRecord.notFetchingNote([quiet]) == "worker \(quiet.id) (quiet) lists it but fetches nothing new")
        #expect(try await h.jobs.store.queuesNoWorkerServes().contains("low") == false, "a quiet spell retires no queue")
        let forget = try await h.jobs.forget(queue: "low", force: true)
        worker.shutdown()
        try await task.value
        guard case .served(let by) = forget else {
            Issue.record("a quiet worker's queue is not forgotten from under it: \(forget)")
            return
        }
        #expect(by.map(\.id) == [quiet.id])
    }

    /// A worker record without `state` (an older release) fetches: it serves the queues it lists, or any without
    /// `queues`; a state this release does not know fetches too; any other state but `running` does not.
    @Test func aRecordWithoutAStateServesAsBefore() {
        let old = ProcessRecord(id: "w-old", fields: ["kind": "worker", "queues": "default,low"], age: 1)
        #expect(old.workerState == nil && old.fetches && old.serves("low") && !old.serves("mail"))
        #expect(ProcessRecord(id: "w-any", fields: ["kind": "worker"], age: 1).serves("mail"))
        let future = ProcessRecord(id: "w-new", fields: ["kind": "worker", "queues": "low", "state": "resting"], age: 1)
        #expect(future.workerState == nil && future.serves("low"))
        for state in [WorkerState.quiet, .draining, .stopping, .stopped] {
            let record = ProcessRecord(id: "w", fields: ["kind": "worker", "queues": "low", "state": state.description], age: 1)
            #expect(record.workerState == state && !record.serves("low") && record.lists("low"), "\(state)")
        }
        #expect(!ProcessRecord(id: "s", fields: ["kind": "scheduler", "queues": "low"], age: 1).lists("low"))
    }
}
