import Foundation
import Redis

extension JobQueue {
    /// Dead jobs, newest first.
    /// - Parameters:
    ///   - queue: the queue.
    ///   - offset: how many newest to skip.
    ///   - limit: how many to return.
    public func deadJobs(queue: String, offset: Int = 0, limit: Int = 50) async throws -> [JobEnvelope] {
        let k = keys(queue)
        let ids = (try await redis.send("ZREVRANGE", k.dead, String(offset), String(offset + limit - 1)).array ?? []).compactMap(\.string)
        if ids.isEmpty { return [] }
        let bodies = try await redis.send(RedisCommand("HMGET", [k.deadJobs] + ids)).array ?? []
        return bodies.compactMap { $0.bytes.flatMap { try? JobEnvelope.decode($0) } }
    }

    /// Puts a dead job back on its queue with its attempts reset. Returns false if it is not dead.
    public func retryDead(id: String, queue: String) async throws -> Bool {
        let k = keys(queue)
        guard let bytes = try await redis.send("HGET", k.deadJobs, id).bytes else { return false }
        var envelope: JobEnvelope
        do {
            envelope = try JobEnvelope.decode(bytes)
        } catch {
            // A malformed job was kept as a wrapper with its raw text: it cannot run, say so.
            throw EnqueueError(message: "dead job \(id) is not a valid envelope and cannot be retried: \(error)")
        }
        // What could never run is refused here rather than sent round again: a malformed job kept as text, one
        // that breaks the envelope rules, one too large for the queue.
        guard envelope.type != "(malformed)" else {
            throw EnqueueError(message: "dead job \(id) is a malformed envelope kept as text and cannot be retried: \(envelope.deadReason ?? "")")
        }
        envelope.attempt = 0
        envelope.deadReason = nil
        envelope.diedAt = nil
        envelope.runAt = nil
        let fields = EnvelopeRules.Fields(
            id: envelope.id, type: envelope.type, queue: envelope.queue, attempt: 0, maxAttempts: envelope.maxAttempts.map(Double.init),
            timeout: envelope.timeout, enqueuedAt: envelope.enqueuedAt, runAt: nil, uniqueKey: envelope.uniqueKey, uniqueFor: envelope.uniqueFor)
        if let problem = EnvelopeRules.violation(fields) { throw EnqueueError(message: "dead job \(id) cannot be retried: \(problem)") }
        let encoded = envelope.encoded()
        guard encoded.count <= maxEnvelopeBytes else {
            throw EnqueueError(message: "dead job \(id) is \(encoded.count) bytes, over the \(maxEnvelopeBytes)-byte limit, and cannot be retried")
        }
        let moved = try await redis.run(
            QueueScripts.resurrect, keys: [k.dead, k.deadJobs, k.stream], arguments: [id, String(decoding: encoded, as: UTF8.self)])
        return moved.int == 1
    }

    /// Retries every dead job of a queue that can run; returns how many were moved.
    public func retryAllDead(queue: String) async throws -> Int {
        var moved = 0
        var skipped = 0
        while true {
            let ids = (try await redis.send("ZRANGE", keys(queue).dead, String(skipped), String(skipped + 99)).array ?? []).compactMap(\.string)
            if ids.isEmpty { return moved }
            for id in ids {
                if (try? await retryDead(id: id, queue: queue)) == true { moved += 1 } else { skipped += 1 }
            }
        }
    }

    /// Deletes a dead job. Returns false if it was not there.
    public func deleteDead(id: String, queue: String) async throws -> Bool {
        let k = keys(queue)
        let replies = try await redis.transaction([RedisCommand("ZREM", k.dead, id), RedisCommand("HDEL", k.deadJobs, id)])
        return replies.first?.int == 1
    }
}
