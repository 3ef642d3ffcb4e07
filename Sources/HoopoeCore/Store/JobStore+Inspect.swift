import Foundation
import HoopoeJSON
import Redis

extension JobStore {
    /// The jobs of one day (UTC), as `processed`, `failed`, `retried`, `dead`, `discarded`, and per type
    /// as `processed:<type>` and so on. The settles count per type only; the totals are summed here
    /// (``CounterTotals``).
    func counters(queue: String, day: Date) async throws -> [String: Int] {
        CounterTotals.summed(try await redis.send("HGETALL", keys(queue).stats(on: day)))
    }

    /// Depth, in-flight, scheduled, dead and latency of a queue, in one round trip. A key of another type
    /// (`WRONGTYPE`) is named in the error with its queue: Redis names neither, and `hoopoe queues` said only
    /// "XLEN: WRONGTYPE" of one queue among many (``RedisError/refusesQueueRead``).
    func info(queue: String) async throws -> QueueInfo {
        let k = keys(queue)
        let replies = try await redis.pipeline([
            RedisCommand("XLEN", k.stream),
            RedisCommand("XPENDING", k.stream, QueueKeys.group),
            RedisCommand("ZCARD", k.scheduled),
            RedisCommand("ZCARD", k.dead),
            RedisCommand("XINFO", "GROUPS", k.stream),
            RedisCommand("TIME"),
        ])
        try Self.refuseFailedReplies(
            replies, commands: ["XLEN", "XPENDING", "ZCARD", "ZCARD", "XINFO GROUPS", "TIME"], endpoint: endpoint,
            keys: [k.stream, k.stream, k.scheduled, k.dead, k.stream, nil], queue: queue)
        let length = replies[0].int ?? 0
        let inFlight = replies[1].array?.first?.int ?? 0
        var latency = 0.0
        let lastDelivered = Self.lastDelivered(groups: replies[4]) ?? "0-0"
        let ready = max(0, length - inFlight)
        if ready > 0 {
            let oldest = try await redis.send("XRANGE", k.stream, "(" + lastDelivered, "+", "COUNT", "1")
            if let id = oldest.array?.first?.array?.first?.string, let ms = Double(id.split(separator: "-")[0]),
                let time = replies[5].array, let s = time.first?.double, let us = time.last?.double
            {
                latency = max(0, s + us / 1e6 - ms / 1000)
            }
        }
        return QueueInfo(queue: queue, ready: ready, inFlight: inFlight, scheduled: replies[2].int ?? 0, dead: replies[3].int ?? 0, latency: latency)
    }

    /// Throws the first error reply of `replies` but the two a queue nobody served yet gives: `NOGROUP` (no group:
    /// `XPENDING`) and `no such key` (no stream: `XINFO GROUPS`). A `NOPERM`, a `WRONGTYPE` or a `LOADING` read as
    /// zero once, and `hoopoe queues` or the health check then said "0 ready, 0 dead" of a queue holding thousands.
    ///
    /// `keys` (the key of each command, nil for none) and `queue` name the key of a `WRONGTYPE` in its message.
    static func refuseFailedReplies(
        _ replies: [RedisReply], commands: [String], endpoint: String, keys: [String?] = [], queue: String? = nil
    ) throws {
        for (index, (reply, command)) in zip(replies, commands).enumerated() {
            guard let message = reply.errorMessage, !message.hasPrefix("NOGROUP"), !message.hasPrefix("ERR no such key") else { continue }
            if message.hasPrefix("WRONGTYPE"), let queue, index < keys.count, let key = keys[index] {
                throw RedisError.reply(wrongType(message, queue: queue, key: key), endpoint: endpoint, command: command)
            }
            throw RedisError.reply(message, endpoint: endpoint, command: command)
        }
    }

    /// The workers' group's last-delivered id in an `XINFO GROUPS` reply; nil when the group is not there (or the
    /// reply is an error: no stream yet).
    static func lastDelivered(groups reply: RedisReply) -> String? {
        for group in reply.array ?? [] {
            let fields = group.array ?? []
            var name: String?
            var last: String?
            for i in stride(from: 0, to: fields.count - 1, by: 2) {
                if fields[i].string == "name" { name = fields[i + 1].string }
                if fields[i].string == "last-delivered-id" { last = fields[i + 1].string }
            }
            if name == QueueKeys.group { return last }
        }
        return nil
    }

    /// How long a scan of the keyspace for queues is reused (``GlobalKeys/scannedQueues``).
    static let scannedQueuesTTLSeconds = 30

    /// Every queue with something in Redis: those workers registered, plus any queue with a stream, a
    /// scheduled set, a dead set or a job history under the namespace (a queue may hold only delayed, dead or
    /// finished jobs). On a cluster the keys are scanned on every primary (a `SCAN` sees one node's keys).
    ///
    /// A scan walks every key of the database, the domain jobs' and other applications' too: with a million keys, a
    /// thousand round trips. With `rescan` false (the dashboard's pages, the health check) the last scan's result is
    /// reused for ``scannedQueuesTTLSeconds`` by every process of the namespace, so a queue that only a service's
    /// `XADD` made shows up within that time, and the queues workers serve at once. The admin commands rescan: an
    /// operator's one command may pay for an exact answer.
    func knownQueues(rescan: Bool = true) async throws -> [String] {
        let replies = try await redis.pipeline([RedisCommand("SMEMBERS", global.queues), RedisCommand("SMEMBERS", global.scannedQueues)])
        let names = Set((replies[0].array ?? []).compactMap(\.string))
        let remembered = (replies[1].array ?? []).compactMap(\.string)
        if !rescan && !remembered.isEmpty {
            return names.union(remembered.filter { !$0.isEmpty }).sorted()
        }
        var found = Set<String>()
        for node in try await redis.primaries() {
            try await scanQueues(on: node, into: &found)
        }
        // Remembered for the others; a reader between the DEL and the SADD finds nothing and scans for itself.
        _ = try? await redis.pipeline([
            RedisCommand("DEL", global.scannedQueues), RedisCommand("SADD", [global.scannedQueues, ""] + found.sorted()),
            RedisCommand("EXPIRE", global.scannedQueues, String(Self.scannedQueuesTTLSeconds)),
        ])
        return names.union(found).sorted()
    }

    /// Adds the queues `node` holds keys of to `names`.
    private func scanQueues(on node: RedisConfiguration.Endpoint, into names: inout Set<String>) async throws {
        var cursor = "0"
        repeat {
            let reply = try await redis.send([RedisCommand("SCAN", cursor, "MATCH", GlobPattern.literal(namespace) + ":{*}:*", "COUNT", "1000")], to: node)[0]
            if let message = reply.errorMessage { throw RedisError.reply(message, endpoint: node.description, command: "SCAN") }
            cursor = reply.array?.first?.string ?? "0"
            for key in reply.array?.last?.array ?? [] {
                if let key = key.string, let name = Self.queueName(ofKey: key, namespace: namespace) { names.insert(name) }
            }
        } while cursor != "0"
    }

    /// The queue whose stream, scheduled set, dead set or job history `key` is (`<ns>:{<queue>}:stream`), else nil.
    ///
    /// The name ends at the first `}` (a queue's name has none) and the rest must be one of those suffixes exactly: read to
    /// the last `}`, a unique lock's key whose client-given key ends in `}:stream` (`<ns>:{mail}:unique:x}:stream`) made
    /// a queue `mail}:unique:x` appear in `hoopoe queues`, the dashboard and the health check.
    static func queueName(ofKey key: String, namespace: String) -> String? {
        let prefix = namespace + ":{"
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard let close = rest.firstIndex(of: "}") else { return nil }
        let name = rest[..<close]
        guard !name.isEmpty, [":stream", ":scheduled", ":dead", ":history:jobs"].contains(String(rest[rest.index(after: close)...])) else { return nil }
        return String(name)
    }

    /// Finds a job by id in a queue: scheduled, dead, finished (job history, only with `finished`), or in the stream
    /// (as far as `stream` says: ``StreamSearch``).
    ///
    /// A history record that says `dead` while the dead set no longer holds the job may be stale (the job was
    /// retried from the dead set and waits in the stream): then the stream is searched first.
    ///
    /// A job the scheduled set holds is found there whatever its stored text: one a service scheduled through
    /// `FCALL hoopoe_enqueue` with a field of the wrong JSON type (`"max_attempts":"3"`), or an id whose text is
    /// missing, comes with ``unreadableScheduled(id:queue:text:)``'s placeholder. Found only when its text decoded, it
    /// was looked for in the whole stream (seconds on a large backlog) and its cancel answered "not found" while it
    /// stayed scheduled: the dashboard's Delete and `hoopoe job cancel` could not remove it.
    func find(id: String, queue: String, finished includeFinished: Bool = false, stream search: StreamSearch = .whole) async throws -> FoundJob? {
        let k = keys(queue)
        // The score before the text: a job promoted between the two reads is seen scheduled with no text, and its cancel,
        // finding nothing to remove, looks again. The other way round, a job scheduled between them was seen with no text
        // and cancelled under a placeholder, its unique lock kept.
        let replies = try await redis.pipeline([
            RedisCommand("ZSCORE", k.scheduled, id), RedisCommand("HGET", k.scheduledJobs, id), RedisCommand("HGET", k.deadJobs, id),
            RedisCommand("HGET", k.historyJobs, id),
        ])
        if let at = replies[0].double {
            let text = replies[1].bytes
            let envelope = text.flatMap { try? JobEnvelope.decode($0) } ?? Self.unreadableScheduled(id: id, queue: queue, text: text)
            return FoundJob(envelope: envelope, state: .scheduled(at: at), entryID: nil)
        }
        // Its text without its place in the set (a partial write by hand): found, and its cancel finds nothing to remove.
        if let bytes = replies[1].bytes, let envelope = try? JobEnvelope.decode(bytes) {
            return FoundJob(envelope: envelope, state: .scheduled(at: 0), entryID: nil)
        }
        if let bytes = replies[2].bytes, let envelope = try? JobEnvelope.decode(bytes) {
            return FoundJob(envelope: envelope, state: .dead, entryID: nil)
        }
        let finished = replies[3].bytes.flatMap { includeFinished ? HistoryRecord.decode($0) : nil }.map { record in
            var envelope = record.envelope ?? JobEnvelope(id: record.id, type: record.type, queue: record.queue, payload: .null, enqueuedAt: 0)
            envelope.attempt = record.attempt  // the attempt that finished it (the stream's copy says how many ran before)
            return FoundJob(envelope: envelope, state: .finished(record), entryID: nil)
        }
        if let finished, case .finished(let record) = finished.state, record.outcome != .dead { return finished }
        guard let (entryID, envelope) = try await streamEntry(queue: queue, id: id, search: search) else { return finished }
        // Before any worker created the group, XPENDING errors (NOGROUP): then nobody holds the job.
        let pending = try await redis.pipeline([RedisCommand("XPENDING", k.stream, QueueKeys.group, entryID, entryID, "1")])[0]
        if let consumer = pending.array?.first?.array?[1].string {
            return FoundJob(envelope: envelope, state: .running(consumer: consumer), entryID: entryID)
        }
        return FoundJob(envelope: envelope, state: .ready, entryID: entryID)
    }

    /// The envelope a scheduled job is found and cancelled under when its stored `text` is not a readable envelope, or
    /// is missing: its id, no type a handler or filter names (`(malformed)`, as a queue's clear and the dead set name
    /// one), and a payload that says so without the text (it may hold what the redaction rule of a type it cannot name
    /// would withhold). What the worker reads of a broken envelope to settle it as the enqueue left it (``Identity``)
    /// is kept: its `unique_key`, whose lock the enqueue function took whatever else was wrong (the cancel script
    /// deletes it only while it holds this job's id; kept, it refused the corrected job as a duplicate for a day), and
    /// its `notify`, so a caller waiting for it is told it was cancelled.
    static func unreadableScheduled(id: String, queue: String, text: [UInt8]?) -> JobEnvelope {
        let note = text.map { "(unreadable: \($0.count) bytes that are not a job envelope)" } ?? "(no envelope stored)"
        var envelope = JobEnvelope(id: id, type: "(malformed)", queue: queue, payload: .string(note), enqueuedAt: 0)
        let identity = text.flatMap(Identity.read)
        envelope.uniqueKey = identity?.uniqueKey.flatMap { $0.isEmpty ? nil : $0 }
        envelope.notify = identity?.notify
        return envelope
    }
}

extension JobStore {
    /// How many delayed jobs and retries `queue` holds (one `ZCARD`).
    package func scheduledCount(queue: String) async throws -> Int {
        try await redis.send("ZCARD", keys(queue).scheduled).int ?? 0
    }

    /// When delayed job or retry `id` of `queue` is due (its score in the scheduled set), nil when it is not there.
    package func scheduledTime(id: String, queue: String) async throws -> Double? {
        try await redis.send("ZSCORE", keys(queue).scheduled, id).double
    }

    /// How many entries `queue`'s stream holds, delivered or not (one `XLEN`).
    package func streamLength(queue: String) async throws -> Int {
        try await redis.send("XLEN", keys(queue).stream).int ?? 0
    }
}

extension RedisError {
    /// Whether this failure of reading one queue (``JobQueue/info(queue:)``, its counters) is that queue's own: an
    /// error reply about its keys (`WRONGTYPE`: a key of another type, written by hand or by another application; a
    /// `NOPERM` for its keys), not a Redis that is away or not serving yet. `hoopoe queues` and the health check then
    /// fail that queue's row and show the others; one such key failed the whole command ("XLEN: WRONGTYPE", exit 1)
    /// and collapsed the health check's every `queue:` finding into one `queues` failure.
    public var refusesQueueRead: Bool {
        (code == .server && !isMomentaryRefusal) || code == .permissionDenied
    }
}
