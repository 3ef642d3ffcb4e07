import Foundation
import Redis

/// Where a job is, as found by id.
public enum JobState: Sendable, Equatable {
    /// In the stream, waiting for a worker.
    case ready
    /// Delivered to a worker that holds it now.
    case running(consumer: String)
    /// Waiting for its time (a delayed job or a retry), due at this Unix time.
    case scheduled(at: Double)
    /// In the dead set.
    case dead
}

/// A found job: its envelope and where it is.
public struct FoundJob: Sendable, Equatable {
    public let envelope: JobEnvelope
    public let state: JobState
    /// The stream entry id, for jobs in the stream.
    public let entryID: String?
}

/// The numbers an operator watches for one queue.
public struct QueueInfo: Sendable, Equatable {
    public let queue: String
    /// Jobs ready and not yet taken by a worker.
    public let ready: Int
    /// Jobs held by workers (running or prefetched).
    public let inFlight: Int
    /// Delayed jobs and retries.
    public let scheduled: Int
    /// Jobs in the dead set.
    public let dead: Int
    /// Age in seconds of the oldest ready job (0 when none waits).
    public let latency: Double
}

/// The outcome of a cancel.
public enum CancelResult: Sendable, Equatable {
    case cancelled
    /// A worker is running it; running jobs are not interrupted.
    case running
    case notFound
}

extension JobQueue {
    /// The jobs of one day (UTC), as `processed`, `failed`, `retried`, `dead`, `discarded`, and per type
    /// as `processed:<type>` and so on.
    public func counters(queue: String, day: Date = Date()) async throws -> [String: Int] {
        let reply = try await redis.send("HGETALL", keys(queue).stats(day: Self.day(day)))
        var result: [String: Int] = [:]
        let items = reply.array ?? []
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let key = items[index].string, let value = items[index + 1].int { result[key] = value }
        }
        return result
    }

    /// `YYYY-MM-DD` in UTC: the counters' day.
    static func day(_ date: Date) -> String {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let (y, m, d) = civilFromDays(days)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// Howard Hinnant's days-to-civil: a date without a Calendar (cheap on the ack path).
    private static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Depth, in-flight, scheduled, dead and latency of a queue, in one round trip.
    public func info(queue: String) async throws -> QueueInfo {
        let k = keys(queue)
        let replies = try await redis.pipeline([
            RedisCommand("XLEN", k.stream),
            RedisCommand("XPENDING", k.stream, QueueKeys.group),
            RedisCommand("ZCARD", k.scheduled),
            RedisCommand("ZCARD", k.dead),
            RedisCommand("XINFO", "GROUPS", k.stream),
            RedisCommand("TIME"),
        ])
        let length = replies[0].int ?? 0
        let inFlight = replies[1].array?.first?.int ?? 0
        var latency = 0.0
        var lastDelivered = "0-0"
        for group in replies[4].array ?? [] {
            let fields = group.array ?? []
            var name: String?
            var last: String?
            for i in stride(from: 0, to: fields.count - 1, by: 2) {
                if fields[i].string == "name" { name = fields[i + 1].string }
                if fields[i].string == "last-delivered-id" { last = fields[i + 1].string }
            }
            if name == QueueKeys.group, let last { lastDelivered = last }
        }
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

    /// Every queue with something in Redis: those workers registered, plus any queue with a stream, a
    /// scheduled set or a dead set under the namespace (a queue may hold only delayed or dead jobs).
    public func knownQueues() async throws -> [String] {
        var names = Set((try await redis.send("SMEMBERS", global.queues).array ?? []).compactMap(\.string))
        var cursor = "0"
        repeat {
            let reply = try await redis.send("SCAN", cursor, "MATCH", "\(namespace):{*}:*", "COUNT", "1000")
            cursor = reply.array?.first?.string ?? "0"
            for key in reply.array?.last?.array ?? [] {
                guard let key = key.string, key.hasSuffix("}:stream") || key.hasSuffix("}:scheduled") || key.hasSuffix("}:dead"),
                    let open = key.firstIndex(of: "{"), let close = key.lastIndex(of: "}"), open < close
                else { continue }
                names.insert(String(key[key.index(after: open)..<close]))
            }
        } while cursor != "0"
        return names.sorted()
    }

    /// Finds a job by id in a queue: scheduled, dead, or in the stream (a scan of the stream, for
    /// operators; not for hot paths).
    public func find(id: String, queue: String) async throws -> FoundJob? {
        let k = keys(queue)
        let replies = try await redis.pipeline([
            RedisCommand("HGET", k.scheduledJobs, id), RedisCommand("ZSCORE", k.scheduled, id), RedisCommand("HGET", k.deadJobs, id),
        ])
        if let bytes = replies[0].bytes, let envelope = try? JobEnvelope.decode(bytes) {
            return FoundJob(envelope: envelope, state: .scheduled(at: replies[1].double ?? 0), entryID: nil)
        }
        if let bytes = replies[2].bytes, let envelope = try? JobEnvelope.decode(bytes) {
            return FoundJob(envelope: envelope, state: .dead, entryID: nil)
        }
        guard let (entryID, envelope) = try await scanStream(queue: queue, for: id) else { return nil }
        // Before any worker created the group, XPENDING errors (NOGROUP): then nobody holds the job.
        let pending = try await redis.pipeline([RedisCommand("XPENDING", k.stream, QueueKeys.group, entryID, entryID, "1")])[0]
        if let consumer = pending.array?.first?.array?[1].string {
            return FoundJob(envelope: envelope, state: .running(consumer: consumer), entryID: entryID)
        }
        return FoundJob(envelope: envelope, state: .ready, entryID: entryID)
    }

    private func scanStream(queue: String, for id: String) async throws -> (String, JobEnvelope)? {
        var start = "-"
        let needle = Array("\"id\":\"\(id)\"".utf8)
        while true {
            let page = try await redis.send("XRANGE", keys(queue).stream, start, "+", "COUNT", "500").array ?? []
            for entry in page {
                guard let parts = entry.array, let entryID = parts.first?.string, let fields = parts.last?.array,
                    let bytes = fields.last?.bytes, bytes.contains(subsequence: needle),
                    let envelope = try? JobEnvelope.decode(bytes), envelope.id == id
                else { continue }
                return (entryID, envelope)
            }
            guard page.count == 500, let last = page.last?.array?.first?.string else { return nil }
            start = "(" + last
        }
    }

    /// Cancels a job that is waiting (ready or scheduled). Running jobs are not interrupted.
    public func cancel(id: String, queue: String) async throws -> CancelResult {
        let k = keys(queue)
        guard let found = try await find(id: id, queue: queue) else { return .notFound }
        let unique = k.unique(found.envelope.uniqueKey ?? "-")
        switch found.state {
        case .scheduled:
            let n = try await redis.run(QueueScripts.cancelScheduled, keys: [k.scheduled, k.scheduledJobs, unique], arguments: [id])
            return n.int == 1 ? .cancelled : .notFound
        case .ready:
            let n = try await redis.run(QueueScripts.cancelReady, keys: [k.stream, unique], arguments: [QueueKeys.group, found.entryID!, id])
            return n.int == 1 ? .cancelled : n.int == -1 ? .running : .notFound
        case .running: return .running
        case .dead: return .notFound
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return needle.isEmpty }
        let first = needle[0]
        var index = 0
        while index <= count - needle.count {
            if self[index] == first && self[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
