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
    /// run, finding no record, sent the email again. Too few replicas confirmed it: it is taken back on the primary, only
    /// if it is still this one, by its `first_try`, in one step (Lua/email_unmark_sending.lua), and
    /// ``EmailLedgerNotReplicated`` thrown: the caller must not send.
    func markSending(_ messageID: String, at time: Double) async throws {
        let key = key(messageID)
        do {
            _ = try await services.redis.transaction(keys: [key], [
                RedisCommand("HSET", key, "state", "sending", "first_try", String(time)),
                RedisCommand("EXPIRE", key, String(Self.recordTTL)),
            ], durable: true)
        } catch let error as RedisError where error.code == .notReplicated {
            // Best effort: a mark left behind only sends the retry through the idempotency key or the events look-up.
            _ = try? await unmarkSending(key, wrote: String(time), putBack: nil)
            throw EmailLedgerNotReplicated(write: "send-under-way mark", error: error)
        }
    }

    /// Starts a new idempotency window at `time`: the look-up found no trace of the last one, begun at `previous`.
    ///
    /// Durable (`REDIS_WAIT_REPLICAS`), as ``markSending(_:at:)``: the window's start is what tells the run after a lost
    /// answer to re-send with the idempotency key (which Brevo refuses as a repeat) rather than trust the events
    /// report, which may not list an email accepted moments ago. Lost in a failover, the replicas kept the old
    /// window's start, long past, and a run just after the new request asked the report first, found no trace yet and
    /// sent the email a second time. Too few replicas confirmed it: `previous` is put back on the primary, only if the
    /// window is still this one (Lua/email_unmark_sending.lua), and ``EmailLedgerNotReplicated`` thrown: the caller
    /// must not send.
    func restartWindow(_ messageID: String, at time: Double, after previous: Double) async throws {
        let key = key(messageID)
        do {
            _ = try await services.redis.send(RedisCommand("HSET", key, "first_try", String(time)), durable: true)
        } catch let error as RedisError where error.code == .notReplicated {
            _ = try? await unmarkSending(key, wrote: String(time), putBack: String(previous))
            throw EmailLedgerNotReplicated(write: "new idempotency window", error: error)
        }
    }

    /// Takes back this run's `sending` mark (`putBack` nil) or its window's new start (`putBack`: the one before), if the
    /// record still holds what it wrote (`wrote`, its `first_try`). One script (Lua/email_unmark_sending.lua): as a read
    /// and a delete, a mark another run wrote between the two was deleted.
    ///
    /// KEYS[1] `{email}:msg:<message_id>` · ARGV[1] `wrote` · ARGV[2] `putBack`, or empty to delete `state` and `first_try`.
    /// - Returns: whether it was taken back.
    private func unmarkSending(_ key: String, wrote: String, putBack: String?) async throws -> Bool {
        try await services.redis.run(Self.unmarkSendingScript, keys: [key], arguments: [wrote, putBack ?? ""]).int == 1
    }

    /// Records the email as sent, with Brevo's message id (the event comes after: ``markAnnounced(_:)``).
    ///
    /// Durable (`REDIS_WAIT_REPLICAS`), as `sms.send`'s `sent` is (decision 0115): lost in a failover, the replicas hold
    /// the `sending` mark, and the run after it must find the email in Brevo's events report (a repeated
    /// `email.sent` at best; a second email when the report does not list it in time).
    /// - Throws: ``EmailLedgerNotReplicated`` when too few replicas confirmed it: it is on the primary, and the mark the
    ///   replicas confirmed before the request still sends a run after a failover to the look-up, not to a blind send.
    func markSent(_ messageID: String, brevoID: String, reconciled: Bool) async throws {
        let key = key(messageID)
        do {
            _ = try await services.redis.transaction(keys: [key], [
                RedisCommand("HSET", key, "state", "sent", "brevo_message_id", brevoID, "reconciled", reconciled ? "1" : "0"),
                RedisCommand("EXPIRE", key, String(Self.recordTTL)),
            ], durable: true)
        } catch let error as RedisError where error.code == .notReplicated {
            throw EmailLedgerNotReplicated(write: "sent record", error: error)
        }
    }

    /// Records that `email.sent` is on the events stream.
    func markAnnounced(_ messageID: String) async throws {
        try await services.redis.send("HSET", key(messageID), "announced", "1")
    }

    /// Forgets the message: Brevo refused it for good, so a corrected job may send it.
    func forget(_ messageID: String) async throws {
        try await services.redis.send("DEL", key(messageID))
    }

    static let unmarkSendingScript = RedisScript(name: "email.unmark_sending", embedded: PackageResources.email_unmark_sending_lua)
}

/// A write of the email ledger that fewer replicas than `REDIS_WAIT_REPLICAS` confirmed in time
/// (``RedisError/Code/notReplicated``): the send-under-way mark or a new window, taken back on the primary (the email
/// is not sent, the job retries); the sent record, on the primary (the email went).
struct EmailLedgerNotReplicated: Error, CustomStringConvertible {
    /// Which write: `send-under-way mark`, `new idempotency window`, `sent record`.
    let write: String
    let error: RedisError
    var description: String { "its \(write) did not reach enough replicas (\(error))" }
}
