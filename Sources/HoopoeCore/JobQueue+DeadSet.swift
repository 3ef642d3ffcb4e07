import Foundation

extension JobQueue {
    /// Dead jobs, newest first.
    /// - Parameters:
    ///   - queue: the queue.
    ///   - offset: how many newest to skip.
    ///   - limit: how many to return.
    public func deadJobs(queue: String, offset: Int = 0, limit: Int = 50) async throws -> [JobEnvelope] {
        try await store.deadJobs(queue: queue, offset: offset, limit: limit)
    }

    /// Dead job `id` of `queue` (its `queue` filled in when the stored envelope lacks one), nil when the dead set
    /// does not hold it or holds text that is not an envelope. One `HGET`: no stream scan.
    public func deadJob(id: String, queue: String) async throws -> JobEnvelope? {
        guard let bytes = try await store.deadJobBytes(id: id, queue: queue), var envelope = try? JobEnvelope.decode(bytes) else { return nil }
        if envelope.queue.isEmpty { envelope.queue = queue }
        return envelope
    }

    /// Puts a dead job back on its queue with its attempts reset. Returns false if it is not dead.
    /// - Throws: ``EnqueueError`` when it cannot run again, or while another job holds its unique key.
    public func retryDead(id: String, queue: String) async throws -> Bool {
        guard let bytes = try await store.deadJobBytes(id: id, queue: queue) else { return false }
        do {
            return try await store.resurrect(try revived(id: id, bytes: bytes), queue: queue)
        } catch let held as JobStore.UniqueKeyHeld {
            throw EnqueueError(message: held.message)
        }
    }

    /// The envelope a dead job goes back to its queue with (attempts reset, death cleared), and its unique lock (for
    /// its `unique_for`, else a day, as an enqueue to run now), or the reason it cannot go back.
    private func revived(id: String, bytes: [UInt8]) throws -> JobStore.Revival {
        var envelope: JobEnvelope
        do {
            envelope = try JobEnvelope.decode(bytes)
        } catch {
            // A malformed job was kept as a wrapper with its raw text: it cannot run, say so.
            throw EnqueueError(message: "dead job \(id) is not a valid envelope and cannot be retried: \(PersonalDataMask.mask("\(error)"))")
        }
        if let refusal = Self.deadRetryRefusal(envelope, id: id) { throw EnqueueError(message: refusal) }
        envelope.attempt = 0
        envelope.deadReason = nil
        envelope.diedAt = nil
        envelope.runAt = nil
        var encoded = envelope.encoded()
        if encoded.count > maxEnvelopeBytes {
            // Its retries' fields took it past the limit (``EnvelopeRules/retryRoomBytes``); a new job is held to the
            // limit, so it starts again without them (the dead copy keeps them until the revival replaces it).
            envelope.failedAttempts = nil
            envelope.lastError = nil
            encoded = envelope.encoded()
        }
        guard encoded.count <= maxEnvelopeBytes else {
            throw EnqueueError(message: "dead job \(id) is \(encoded.count) bytes, over the \(maxEnvelopeBytes)-byte limit, and cannot be retried")
        }
        let lock = envelope.uniqueKey.map { (key: $0, seconds: JobStore.wholeSeconds(envelope.uniqueFor ?? 86_400)) }
        return JobStore.Revival(id: id, envelope: encoded, uniqueLock: lock, deadEnvelope: bytes)
    }

    /// Why dead job `id`, stored as `envelope`, can never run again, or nil: what ``retryDead(id:queue:)`` refuses
    /// whatever else is in Redis (a malformed envelope kept as text, a payload of which only the start was kept, keys
    /// withheld as secrets when it was buried, fields that break the envelope rules). Not the conditions of the moment
    /// (its unique key held by another job, gone since it was read) nor its size with its attempts reset.
    ///
    /// Why public: the dashboard offers no Retry for such a copy. It did, and a click answered "1 skipped" where
    /// `hoopoe dead retry` said why.
    public static func deadRetryRefusal(_ envelope: JobEnvelope, id: String) -> String? {
        // What could never run is refused rather than sent round again (one too large for the queue: by `revived`).
        guard envelope.type != "(malformed)" else {
            return "dead job \(id) is a malformed envelope kept as text and cannot be retried: \(PersonalDataMask.mask(envelope.deadReason ?? ""))"
        }
        if let reason = envelope.deadReason, reason.contains(Worker.payloadCutNote) {
            // Its payload was over the limit and only its start was kept, as text: it would run with that.
            return "dead job \(id) kept only the start of its payload (\(PersonalDataMask.mask(reason))) and cannot be retried: enqueue it again from its source"
        }
        if let withheld = envelope.withheldKeys {
            // Its type had no handler when it died, and keys named like secrets were not kept: it would run without them.
            return PersonalDataMask.mask(
                "dead job \(id) cannot be retried: its payload lost \(withheld.joined(separator: ", ")) when it was buried (type \(envelope.type) had no handler then, and keys named like secrets are never kept); enqueue it again from its source")
        }
        let fields = EnvelopeRules.Fields(
            id: envelope.id, type: envelope.type, queue: envelope.queue, attempt: 0, maxAttempts: envelope.maxAttempts.map(Double.init),
            timeout: envelope.timeout, enqueuedAt: envelope.enqueuedAt, runAt: nil, uniqueKey: envelope.uniqueKey, uniqueFor: envelope.uniqueFor)
        // The problem quotes the bad value, which may be a phone number a client put in a field.
        if let problem = EnvelopeRules.violation(fields) { return "dead job \(id) cannot be retried: \(PersonalDataMask.mask(problem))" }
        return nil
    }

    /// What a batched dead-set action did: `done` jobs moved (or deleted), `skipped` not (gone already, or unable to
    /// run again: the same checks as ``retryDead(id:queue:)``; or its unique key held by another job).
    public struct DeadBatchResult: Sendable, Equatable {
        public var done: Int
        public var skipped: Int

        public init(done: Int = 0, skipped: Int = 0) {
            self.done = done
            self.skipped = skipped
        }
    }

    /// ``retryDead(id:queue:)`` for many jobs in two round trips (one `HMGET`, the scripts pipelined): a bulk retry
    /// of a large dead set costs a round trip per batch, not per job.
    public func retryDead(ids: [String], queue: String) async throws -> DeadBatchResult {
        let texts = try await store.deadJobBytes(ids: ids, queue: queue)
        var ready: [JobStore.Revival] = []
        for (id, text) in zip(ids, texts) {
            guard let text, let revival = try? revived(id: id, bytes: text) else { continue }
            ready.append(revival)
        }
        let moved = ready.isEmpty ? 0 : try await store.resurrect(ready, queue: queue)
        return DeadBatchResult(done: moved, skipped: ids.count - moved)
    }

    /// Deletes dead jobs `ids` in one transaction.
    public func deleteDead(ids: [String], queue: String) async throws -> DeadBatchResult {
        let deleted = try await store.deleteDead(ids: ids, queue: queue)
        return DeadBatchResult(done: deleted, skipped: ids.count - deleted)
    }

    /// Retries every dead job of a queue that can run and was dead when the call started (died by the newest death
    /// then), oldest first, 100 a batch (``retryDead(ids:queue:)``); returns how many were moved, and how many were
    /// left dead (unable to run again: a malformed envelope, one whose payload lost keys withheld as secrets, one that
    /// breaks the envelope rules, one whose unique key another job holds; or gone meanwhile). The bound is what makes it end: a retried job that dies again is
    /// buried after it, so it is not retried again (and again) while the call runs.
    public func retryAllDead(queue: String) async throws -> DeadBatchResult {
        var total = DeadBatchResult()
        guard let bound = try await store.newestDeathScore(queue: queue) else { return total }
        var cursor: DeadCursor?
        while true {
            // After the last job visited, not at an offset: the trims remove the oldest meanwhile (DeadCursor).
            let batch = try await store.deadEntries(queue: queue, diedUpTo: bound, after: cursor, limit: 100, envelopes: false)
            guard let last = batch.last else { return total }
            cursor = DeadCursor(diedAt: last.diedAt, id: last.id)
            let result = try await retryDead(ids: batch.map(\.id), queue: queue)
            total.done += result.done
            total.skipped += result.skipped
            if batch.count < 100 { return total }
        }
    }

    /// Deletes a dead job. Returns false if it was not there.
    public func deleteDead(id: String, queue: String) async throws -> Bool {
        try await store.deleteDead(id: id, queue: queue)
    }
}
