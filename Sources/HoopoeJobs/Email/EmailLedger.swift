import Foundation
import Redis

/// What Hoopoe remembers about each email, `<ns>:{email}:msg:<message_id>` (jobs/types/email.send.md): a hash with
/// `state` (`sending`, then `sent`), `first_try` (real Unix seconds of the first request of the current idempotency
/// window), `brevo_message_id`, `reconciled` and `announced` (`email.sent` is on the events stream). Kept
/// ``recordTTL``, as long as the enqueue once-key: once it says `sent`, no run of the message sends again, and a run
/// that finds it sent but not announced emits the event.
struct EmailLedger: Sendable {
    let services: DomainServices

    /// How long the per-message record is kept (as the enqueue once-key).
    static let recordTTL = 30 * 86_400

    /// `<ns>:{email}:msg:<message_id>`.
    func key(_ messageID: String) -> String { services.key("{email}:msg:\(messageID)") }

    /// One message's record.
    struct Record: Sendable {
        /// `sending` or `sent`; nil when never tried (or forgotten).
        var state: String?
        /// When the current idempotency window began (real Unix seconds).
        var firstTry: Double?
        /// Brevo's id of the email, once sent.
        var brevoID: String?
        /// Whether it was found in Brevo's events rather than answered.
        var reconciled = false
        /// Whether `email.sent` is on the events stream.
        var announced = false
    }

    /// The record of `messageID`.
    func record(_ messageID: String) async throws -> Record {
        let fields = try await services.redis.send("HGETALL", key(messageID)).hashFields
        return Record(
            state: fields["state"], firstTry: fields["first_try"].flatMap(Double.init), brevoID: fields["brevo_message_id"],
            reconciled: fields["reconciled"] == "1", announced: fields["announced"] == "1")
    }

    /// Records that a first request is about to go out at `time` (real Unix seconds).
    ///
    /// Durable (`REDIS_WAIT_REPLICAS`): the mark is what sends a run after a lost answer to Brevo's events instead of
    /// sending blind once the idempotency key has expired; written on the primary only, a failover lost it, and a later
    /// run, finding no record, sent the email again. Too few replicas confirmed it: it is taken back on the primary (only
    /// if it is still this one, by its `first_try`) and ``EmailLedgerNotReplicated`` thrown: the caller must not send.
    func markSending(_ messageID: String, at time: Double) async throws {
        let key = key(messageID)
        do {
            _ = try await services.redis.transaction(keys: [key], [
                RedisCommand("HSET", key, "state", "sending", "first_try", String(time)),
                RedisCommand("EXPIRE", key, String(Self.recordTTL)),
            ], durable: true)
        } catch let error as RedisError where error.code == .notReplicated {
            // Best effort: a mark left behind only sends the retry through the idempotency key or the events look-up.
            let fields = try? await services.redis.send("HMGET", key, "state", "first_try").array.map { $0.map(\.string) }
            if fields == ["sending", String(time)] { _ = try? await services.redis.send("HDEL", key, "state", "first_try") }
            throw EmailLedgerNotReplicated(error: error)
        }
    }

    /// Starts a new idempotency window at `time`: the look-up found no trace of the last one.
    func restartWindow(_ messageID: String, at time: Double) async throws {
        try await services.redis.send("HSET", key(messageID), "first_try", String(time))
    }

    /// Records the email as sent, with Brevo's message id (the event comes after: ``markAnnounced(_:)``).
    func markSent(_ messageID: String, brevoID: String, reconciled: Bool) async throws {
        let key = key(messageID)
        _ = try await services.redis.pipeline([
            RedisCommand("HSET", key, "state", "sent", "brevo_message_id", brevoID, "reconciled", reconciled ? "1" : "0"),
            RedisCommand("EXPIRE", key, String(Self.recordTTL)),
        ])
    }

    /// Records that `email.sent` is on the events stream.
    func markAnnounced(_ messageID: String) async throws {
        try await services.redis.send("HSET", key(messageID), "announced", "1")
    }

    /// Forgets the message: Brevo refused it for good, so a corrected job may send it.
    func forget(_ messageID: String) async throws {
        try await services.redis.send("DEL", key(messageID))
    }
}

/// The send-under-way mark of an email that fewer replicas than `REDIS_WAIT_REPLICAS` confirmed in time
/// (``RedisError/Code/notReplicated``), taken back on the primary: the email is not sent, the job retries.
struct EmailLedgerNotReplicated: Error, CustomStringConvertible {
    let error: RedisError
    var description: String { "its send-under-way mark did not reach enough replicas (\(error))" }
}
