import Foundation
import HoopoeJSON
import Logging
import Redis

extension Worker {
    /// Lost runs (deliveries that ended with the lease expiring while the job ran) after which a job is dead whatever
    /// its `max_attempts`: once can be bad luck (a deploy, an OOM kill), twice is a poison pill. Counted as the runs
    /// marked after a recovery, plus the first delivery's (decision 0079).
    static let poisonPillKills = 2
    /// The longest a retry waits (a year): the retry policy's curve grows as attempt⁴, and a `run_at` must stay
    /// a plausible Unix time (``EnvelopeRules/timestampLimit``) or the retry itself would be refused.
    static let maxRetryDelay = 365 * 86_400.0
    /// The longest `last_error` and `dead_reason` kept, in characters: a handler's message can be anything.
    static let maxErrorLength = 4096

    /// When a failed job runs again: the handler's time if it gave a usable one, else the policy's delay;
    /// always finite, not before `now`, and at most ``maxRetryDelay`` ahead.
    static func retryDue(at: Double?, now: Double, policyDelay: Double) -> Double {
        let latest = now + maxRetryDelay
        if let at, at.isFinite { return min(latest, max(now, at)) }
        guard policyDelay.isFinite else { return latest }
        return min(latest, now + max(0, policyDelay))
    }

    /// The outcome pushed to a `notify` job's answer list: `{"id","type","queue","outcome","attempt","error"?}`,
    /// `outcome` one of `processed`, `discarded`, `deferred`, `dead` (and `cancelled`, from ``JobQueue/cancel(id:queue:redaction:)``);
    /// `error` the discard message or the dead reason;
    /// `deferred_to` the job a deferral enqueued in its place.
    static func answer(id: String, type: String, queue: String, outcome: String, attempt: Int, error: String? = nil, deferredTo: String? = nil) -> String {
        var object: [String: JSONValue] = [
            "id": .string(id), "type": .string(type), "queue": .string(queue), "outcome": .string(outcome), "attempt": .integer(Int64(attempt)),
        ]
        if let error { object["error"] = .string(PersonalDataMask.mask(error)) }  // as in every other output
        if let deferredTo { object["deferred_to"] = .string(deferredTo) }
        return String(decoding: JSONValue.object(object).encoded(), as: UTF8.self)
    }

    /// `text`, cut to ``maxErrorLength`` characters (never through a number: ``TextCut``) with a note of its length.
    static func capped(_ text: String) -> String {
        let (kept, cut) = TextCut.prefix(text, scalars: maxErrorLength)
        return cut ? kept + "… (\(text.unicodeScalars.count) characters in all)" : text
    }

    /// How a dead reason says the dead set kept only the start of the payload (as text): such a job cannot be retried.
    static let payloadCutNote = "the dead set keeps the first"

    /// The first `limit` bytes of `bytes` as text, cut before an incomplete UTF-8 sequence.
    static func textPrefix(_ bytes: [UInt8], limit: Int) -> String {
        guard bytes.count > limit else { return String(decoding: bytes, as: UTF8.self) }
        var end = limit
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// Moves a job that arrived before its `run_at` (written with a plain `XADD`) to the queue's scheduled set,
    /// acknowledging its stream entry in the same script, and counts it as `early`. Returns false when Redis's
    /// clock says it is due after all (this worker's clock is ahead): then it runs now.
    func deferEarly(_ work: UnitOfWork, _ header: JobHeader, runAt: Double) async -> Bool {
        do {
            guard try await work.deferEarly(jobID: header.id, runAt: runAt, type: countedType(header.type)) else { return false }
        } catch let error as DeliveryTakenOver {
            logger.warning("\(error)", metadata: ["job.id": "\(header.id)"])
            return true
        } catch {
            // Left delivered: after its lease it comes back and is judged again; it must not run early.
            logger.error("could not move an early job to the scheduled set; it returns after its lease", metadata: ["job.id": "\(header.id)", "error": "\(error)"])
            return true
        }
        if logger.logLevel <= .info {
            logger.info("job arrived before its run_at: scheduled", metadata: ["job.id": "\(header.id)", "job.type": "\(header.type)", "run_at": "\(runAt)"])
        }
        settledWithoutRunning(countedType(header.type), "early")
        return true
    }

    /// Moves a job to the dead set with its reason. A job whose envelope could not be decoded is kept
    /// as a wrapper holding its raw text (at most ``EnvelopeRules/deadRawBytes``, the reason noting the
    /// original size), so a person can see what was sent — unless `rawType` names a type whose handler
    /// redacts payload keys (``PayloadRedaction/carriesSecrets(_:)``) or the text itself names such a type or
    /// key (``PayloadRedaction/mayHoldSecrets(rawText:type:)``, for text cut off before its `type`): then the raw
    /// text, which would hold the secret, is withheld. A decoded envelope loses those keys (``PayloadRedaction/stripped(_:type:)``, the one
    /// rule every output path uses); one over the size limit keeps only the first
    /// 64 KiB of its payload's text, never the whole, and without the usual names of secrets
    /// (``PayloadRedaction/withoutSecretNames(_:type:)``).
    ///
    /// A wrapper is stored under the job's own id (`rawID`) when the envelope had a valid one, else under
    /// `entry-<stream entry id>`.
    /// - Returns: whether the job is in the dead set now (false: its move failed, or another worker holds it), for the
    ///   metrics, which count only what happened: the job runs or settles again elsewhere, and is counted there.
    @discardableResult
    func bury(
        _ work: UnitOfWork, envelope: JobEnvelope?, attempt: Int, reason: String, lastError: String? = nil, rawID: String? = nil, rawType: String? = nil,
        rawUniqueKey: String? = nil, seconds: Double? = nil
    ) async -> Bool {
        let job = work.job
        // Redis's clock as near as this worker knows it (decision 0081), as every event's `at` is (jobs/EVENTS.md): on
        // this host's, a worker minutes off dated its `job.dead` events, and its dead jobs, apart from the rest.
        let now = clockLead.redisNow(queue: job.queue)
        let limit = EnvelopeRules.deadRawBytes
        var reason = Self.capped(reason)
        var record: JobEnvelope
        let wrapperID = rawID.flatMap { EnvelopeRules.idProblem($0) == nil ? $0 : nil } ?? "entry-\(job.entryID)"
        if let envelope {
            record = envelope
            // Stripped, not masked: the dead-set copy is what a retry runs with. What a type no handler declares loses is
            // named, and makes the copy one a retry refuses: it cannot run as it was sent.
            let withheld: [String]
            (record.payload, withheld) = redaction.strippedNamingWithheld(envelope.payload, type: envelope.type)
            if !withheld.isEmpty {
                record.withheldKeys = withheld
                let shown = withheld.prefix(8).joined(separator: ", ") + (withheld.count > 8 ? " and \(withheld.count - 8) more" : "")
                reason += "; its payload's \(shown) were withheld as secrets, so it cannot be retried: enqueue it again with them"
            }
            // A job enqueued near the limit keeps its payload whole: its retry fields may take it past the limit by a
            // retry's room (``EnvelopeRules/retryRoomBytes``), the attempts list and all but the error's start going
            // first, so `hoopoe dead retry` can run it again. Past that, or a job that came in over the limit, the
            // payload is cut.
            let room = jobs.maxEnvelopeBytes + EnvelopeRules.retryRoomBytes
            let readLimit = jobs.maxEnvelopeBytes + (envelope.attempt > 0 ? EnvelopeRules.retryRoomBytes : 0)
            if job.bytes.count <= readLimit, record.encoded().count > room {
                var fitted = record
                fitted.failedAttempts = nil
                fitted.lastError = fitted.lastError.map { String($0.unicodeScalars.prefix(EnvelopeRules.shortLastErrorLength)) }
                if fitted.encoded().count <= room { record = fitted }
            }
            if job.bytes.count > readLimit || record.encoded().count > room {
                // Without the usual names of secrets first: cut, the text cannot be stripped key by key, and no retry
                // runs with it; what still quotes one (JSON in a string that does not parse) is withheld.
                let text = String(decoding: redaction.withoutSecretNames(record.payload, type: record.type).encoded(), as: UTF8.self)
                let kept = Self.textPrefix(Array(text.utf8), limit: limit)
                record.payload = .string(redaction.withholdingSecrets(inText: kept, type: record.type))
                record.lastError = record.lastError.map(Self.capped)
                reason += " (\(Self.payloadCutNote) \(kept.utf8.count) bytes of its payload's \(text.utf8.count), as text)"
                // The bulk may be elsewhere: a field this release does not know (a 5 MB `note`), an enqueuer's own
                // `failed_attempts`, a type or unique key over its limit. Kept, it was stored whole, twice (the dead set
                // and the history). Only the names of withheld keys stay of the unknown fields.
                record.otherFields = nil
                record.withheldKeys = withheld
                record.failedAttempts = record.failedAttempts.map { Array($0.suffix(FailedAttempt.maxKept)).map { FailedAttempt(attempt: $0.attempt, at: $0.at, error: $0.error) } }
                record.type = Self.capped(record.type)
                record.queue = Self.capped(record.queue)
                record.uniqueKey = record.uniqueKey.map(Self.capped)
                if record.encoded().count > 2 * limit {
                    record = JobEnvelope(id: wrapperID, type: "(malformed)", queue: job.queue, payload: .string("(not kept: \(job.bytes.count) bytes)"), enqueuedAt: 0)
                }
            }
        } else if let why = withholdingReason(job.bytes, rawType: rawType) {
            let withheld = "(raw text withheld: \(why))"
            record = JobEnvelope(id: wrapperID, type: "(malformed)", queue: job.queue, payload: .string(withheld), enqueuedAt: 0)
        } else {
            let raw = Self.textPrefix(job.bytes, limit: limit)
            if job.bytes.count > limit { reason += " (raw text: the first \(raw.utf8.count) of \(job.bytes.count) bytes kept)" }
            record = JobEnvelope(id: wrapperID, type: "(malformed)", queue: job.queue, payload: .string(raw), enqueuedAt: 0)
        }
        record.attempt = attempt
        record.deadReason = reason
        record.lastError = lastError ?? reason
        record.diedAt = now
        record.runAt = nil
        // The lock this job may hold, whatever else is wrong with it: an envelope that could not be read (a
        // `"max_attempts":"3"`), or whose key breaks the envelope's rules (over 200 characters), was still enqueued by the
        // enqueue function, which took the lock; kept, it refused the corrected job as a duplicate for a day. The script
        // deletes the lock only while it holds this job's id, so a key no lock was taken for deletes nothing.
        let raw = envelope == nil ? Identity.read(job.bytes) : nil
        let uniqueKey = (envelope?.uniqueKey ?? rawUniqueKey ?? raw?.uniqueKey).flatMap { $0.isEmpty ? nil : $0 }
        // Counters and metrics are labelled by a type this worker runs, or (unknown) / (malformed).
        let countedType = countedType(record.type)
        // For a job with `notify`, its answer: the store writes it with the `job.dead` event in one script, so a job
        // is never dead without them.
        let answer = (envelope?.notify ?? raw?.notify) == true
            ? Self.answer(id: record.id, type: record.type, queue: job.queue, outcome: "dead", attempt: attempt, error: reason) : nil
        do {
            try await work.bury(
                record, uniqueKey: uniqueKey, countedType: countedType, answer: answer,
                limits: options.deadSetLimits, now: now,
                history: historyEntry(dead: record, queue: job.queue, seconds: seconds, now: now))
        } catch let error as DeliveryTakenOver {
            logger.warning("\(error)")
            return false
        } catch let error as RedisError where error.code == .notReplicated {
            // Buried on the primary; only the replicas' confirmation (REDIS_WAIT_REPLICAS) is missing.
            logger.warning(
                "moved the job to the dead set on the primary, but too few replicas confirmed it; if the primary fails over now it runs again after its lease instead",
                metadata: ["job.id": "\(record.id)", "error": "\(error)"])
        } catch {
            // Its reason is named here: the line saying it was buried is written only once it was. When it comes back
            // after its lease, it is judged again as a lost worker's delivery, and this reason is not kept with it.
            logger.error(
                "could not move the job to the dead set (to be buried because: \(reason)); it stays delivered and runs again after its lease",
                metadata: ["job.id": "\(record.id)", "job.type": "\(record.type)", "queue": "\(job.queue)", "error": "\(error)"])
            return false
        }
        // Only now: written before the move, it told of a burial that had not happened when the move failed.
        if envelope == nil || lastError == nil {
            logger.error("job sent to the dead set: \(reason)", metadata: ["job.id": "\(record.id)", "job.type": "\(record.type)", "queue": "\(job.queue)"])
        }
        if lastError == nil { settledWithoutRunning(countedType, "dead") }
        return true
    }

    /// Why the raw text of an unreadable envelope must not be kept, or nil when it may be.
    private func withholdingReason(_ bytes: [UInt8], rawType: String?) -> String? {
        if let rawType, redaction.carriesSecrets(rawType) { return "\(rawType) payloads carry secrets" }
        if redaction.mayHoldSecrets(rawText: bytes, type: rawType) { return "it names a type or key that carries secrets" }
        return nil
    }
}
