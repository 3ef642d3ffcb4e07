import Foundation
import HoopoeJSON
import Redis

/// The low-credit reminders' Redis area (jobs/types/credit.threshold.set.md, reminders.low_credit.md): every key
/// shares the `{credit}` hash tag, so each script's and transaction's keys sit in one Redis Cluster slot. The
/// armed → fired flip and its outbox entry are one script call (`Lua/credit_*.lua`).
struct CreditThresholdStore: Sendable {
    let services: DomainServices
    var redis: StoreRedis { services.redis }

    // MARK: Keys

    /// Set of users with at least one threshold.
    var usersKey: String { services.key("{credit}:users") }
    /// Hash per user: threshold id → JSON `{threshold, phone, first_name, auth_key}`.
    func thresholdsKey(_ user: String) -> String { services.key("{credit}:thresholds:\(user)") }
    /// Hash per user: threshold id → `armed` | `fired` | `rearming` (armed, its `reminder.rearmed` not written yet);
    /// `<threshold id>:n` counts firings (message ids); `<threshold id>:last` is the message id of its last firing, ""
    /// when it fired without an SMS (a lower threshold crossed at the same time had it); `<threshold id>:by` is then
    /// that lower one's message id, whose re-arming fires it again if the balance is still below it (and whose deletion
    /// re-arms it, when that message never reached the user: ``releaseSilent(_:thresholdIDs:carrier:reachedUser:)``).
    ///
    /// Kept while the user has a threshold; after their last is deleted, ``stateKeptAfterLastThreshold`` (its counters
    /// must outlive the message ids they numbered), persistent again when one is saved meanwhile.
    func stateKey(_ user: String) -> String { services.key("{credit}:state:\(user)") }
    /// How long a user's state hash (by then only the firing counters) is kept after their last threshold is deleted, in
    /// seconds: a threshold re-created meanwhile goes on counting, and a message id it made again would still be
    /// remembered (the SMS ledger keeps a message ``SMSSettings/ledgerTTL`` after its last write, its once key as long
    /// after the enqueue) and never sent. The last write of a message fired before the deletion comes within days of it
    /// (sent by its `not_after`, a day after the firing; polled 48 h; re-sent at most twice after IPPanel's bulk ends
    /// unsent): two weeks more covers it. Kept for good before, every user who ever had a threshold left one.
    static let stateKeptAfterLastThreshold = SMSSettings.ledgerTTL + 14 * 86_400
    /// String per user and threshold: the `credit.threshold.delete` job that removed it, kept a day (that job run again
    /// answers `existed` as its first run did).
    func deletedKey(_ user: String, _ thresholdID: String) -> String { services.key("{credit}:deleted:\(user):\(thresholdID)") }
    /// Hash: user → last known balance (from `credit.balance` jobs or Brevo).
    var balancesKey: String { services.key("{credit}:balances") }
    /// Hash: message id → JSON of a low-credit SMS decided but not yet enqueued (`fired_at`: when, domain Unix s).
    var outboxKey: String { services.key("{credit}:outbox") }
    /// Hash: Brevo child auth key → the child's email (resolved once, to match list entries).
    var childEmailsKey: String { services.key("{credit}:child_email") }
    /// Offset of the next children page to read.
    var brevoCursorKey: String { services.key("{credit}:brevo_cursor") }
    /// Brevo calls made in one clock hour (real time): `{credit}:brevo_budget:<hours since 1970>`, expires after 2 h.
    func brevoBudgetKey(hour: Int) -> String { services.key("{credit}:brevo_budget:\(hour)") }
    /// Hash: Brevo child auth key → a mark of the last `credit.threshold.set` naming it (Redis's time), removed with the
    /// key's child email: a sweep remembers what the key resolved to only if the mark is still the one it read.
    var authKeySetKey: String { services.key("{credit}:auth_key_set") }
    /// String: the `reminders.low_credit` run sweeping now (its job id and attempt; expires after the job's timeout and a
    /// minute). Two sweeps at once (one enqueued by hand beside the periodic one) would each resolve the same auth keys
    /// and read the same pages, both out of the one hourly budget.
    var sweepLock: RunLock { RunLock(key: services.key("{credit}:sweep:lock"), redis: redis) }

    // MARK: Thresholds

    /// Saves one threshold (`record` is its JSON) and counts the user in; with an auth key, forgets what was learnt
    /// about it (an unknown key may be known now: resolved again on the next read) and marks it saved now (a sweep
    /// resolving it meanwhile keeps nothing), and forgets the child email and mark of the auth key the threshold had
    /// before, if it changed (nothing names it any more), with the user's balance read from it (another account's
    /// now: evaluated, it could fire an SMS the user's own account does not call for). The user's state hash, left to
    /// expire when their last threshold was deleted, is kept again (its counters go on). One script.
    ///
    /// KEYS[1] thresholds · KEYS[2] users · KEYS[3] child emails · KEYS[4] auth keys' marks · KEYS[5] balances · KEYS[6]
    /// state · ARGV[1] user · ARGV[2] threshold id · ARGV[3] record · ARGV[4] auth key ("" for none).
    func save(user: String, thresholdID: String, record: String, authKey: String?) async throws {
        _ = try await redis.run(
            Self.saveThresholdScript, keys: [thresholdsKey(user), usersKey, childEmailsKey, authKeySetKey, balancesKey, stateKey(user)],
            arguments: [user, thresholdID, record, authKey ?? ""])
    }

    /// The `auth_key` of a stored threshold record, nil when it has none (or cannot be read).
    static func authKey(inRecord record: String) -> String? {
        guard let key = JSONValue.parse(Array(record.utf8))?["auth_key"]?.stringValue, !key.isEmpty else { return nil }
        return key
    }

    /// Removes one threshold and its state (not its firing counter); forgets the user when it was their last, letting
    /// their state hash expire (``stateKeptAfterLastThreshold``), and the child email its auth key resolved to. True
    /// when it existed.
    ///
    /// `jobID` run again gets its first run's answer back.
    ///
    /// KEYS[1] thresholds · KEYS[2] state · KEYS[3] users · KEYS[4] child emails · KEYS[5] auth keys' marks · KEYS[6]
    /// deleted mark · KEYS[7] balances · ARGV[1] user · ARGV[2] threshold id · ARGV[3] job id · ARGV[4] the state's
    /// lifetime after the last threshold, s.
    func delete(user: String, thresholdID: String, jobID: String) async throws -> Bool {
        try await redis.run(
            Self.deleteThresholdScript,
            keys: [thresholdsKey(user), stateKey(user), usersKey, childEmailsKey, authKeySetKey, deletedKey(user, thresholdID), balancesKey],
            arguments: [user, thresholdID, jobID, String(Self.stateKeptAfterLastThreshold)]
        ).int == 1
    }

    /// Every user with a threshold, sorted.
    func users() async throws -> [String] {
        (try await redis.send("SMEMBERS", usersKey).array ?? []).compactMap(\.string).sorted()
    }

    /// The JSON records of a user's thresholds.
    func thresholdRecords(_ user: String) async throws -> [String] {
        (try await redis.send("HVALS", thresholdsKey(user)).array ?? []).compactMap(\.string)
    }

    /// Compares the user's balance with each threshold: fires armed ones it is below, re-arms fired ones it is at or
    /// above. Of the thresholds one call fires only the lowest puts an SMS into the outbox (fired at `now`): one drop
    /// past several thresholds is one SMS, the most urgent; when that one re-arms, the others of its drop still crossed
    /// fire again in the same call (the lowest texted), so a top-up between them texts the higher one. Returns `(action, threshold id, message id)` triples: for
    /// `fired` the new message ("" for one fired without an SMS), for `rearmed` the last one the threshold fired ("" for
    /// none), to cancel.
    ///
    /// With `checkingOrphans`, a call that finds thresholds fired without an SMS whose carrier is gone (deleted) changes
    /// nothing and returns only `orphaned` triples (the gone carrier's message id): the caller settles them
    /// (``releaseSilent(_:thresholdIDs:carrier:reachedUser:)``) and calls again without the check.
    ///
    /// KEYS[1] thresholds · KEYS[2] state · KEYS[3] balances · KEYS[4] outbox · ARGV[1] user · ARGV[2] now (domain Unix s)
    /// · ARGV[3] "1" to skip the orphan check.
    func evaluate(_ user: String, now: Date, checkingOrphans: Bool = true) async throws -> [(action: String, thresholdID: String, messageID: String)] {
        let reply = try await redis.run(
            Self.evaluateScript, keys: [thresholdsKey(user), stateKey(user), balancesKey, outboxKey],
            arguments: [user, String(format: "%.3f", now.timeIntervalSince1970), checkingOrphans ? "" : "1"])
        let items = (reply.array ?? []).compactMap(\.string)
        return stride(from: 0, to: items.count - 2, by: 3).map { (items[$0], items[$0 + 1], items[$0 + 2]) }
    }

    /// Settles thresholds fired without an SMS whose carrier, the threshold whose message `carrier` told of their drop, is
    /// gone: re-armed when that message never reached the user (the next evaluation fires them, the lowest texted), else
    /// given it as their own last message (they stay fired, as if they had carried it). Only those still as the evaluation
    /// saw them. Returns how many were changed.
    ///
    /// KEYS[1] state · ARGV[1] carrier · ARGV[2] "1" when it reached the user (or may have) · ARGV[3…] threshold ids.
    @discardableResult
    func releaseSilent(_ user: String, thresholdIDs: [String], carrier: String, reachedUser: Bool) async throws -> Int {
        try await redis.run(
            Self.releaseSilentScript, keys: [stateKey(user)], arguments: [carrier, reachedUser ? "1" : "0"] + thresholdIDs
        ).int ?? 0
    }

    /// Records that `thresholdID`'s `reminder.rearmed` is written: `rearming` becomes `armed`.
    ///
    /// KEYS[1] state · ARGV[1] threshold id.
    func rearmAnnounced(_ user: String, thresholdID: String) async throws {
        _ = try await redis.run(Self.rearmAnnouncedScript, keys: [stateKey(user)], arguments: [thresholdID])
    }

    // MARK: Balances

    /// Records a user's balance (text as SMS tokens show it).
    func recordBalance(user: String, credits: String) async throws {
        try await redis.send("HSET", balancesKey, user, credits)
    }

    /// Records a balance a sweep read by `authKey`'s child, only while one of `user`'s thresholds still names the key
    /// and no threshold was saved with it since `mark` was read (``lookUpChildEmail(authKey:)``). True when recorded.
    ///
    /// KEYS[1] thresholds · KEYS[2] auth keys' marks · KEYS[3] balances · ARGV[1] auth key · ARGV[2] mark · ARGV[3] user ·
    /// ARGV[4] credits.
    @discardableResult
    func recordBalance(user: String, credits: String, authKey: String, mark: String) async throws -> Bool {
        try await redis.run(
            Self.recordBalanceScript, keys: [thresholdsKey(user), authKeySetKey, balancesKey], arguments: [authKey, mark, user, credits]
        ).int == 1
    }

    // MARK: Outbox

    /// The SMS decided but not yet enqueued: message id → JSON (nil when not text).
    func outbox() async throws -> [(messageID: String, entry: String?)] {
        let items = try await redis.send("HGETALL", outboxKey).array ?? []
        return stride(from: 0, to: items.count - 1, by: 2).compactMap { index in
            items[index].string.map { ($0, items[index + 1].string) }
        }
    }

    /// Removes an entry from the outbox (enqueued, or unreadable).
    func removeFromOutbox(_ messageID: String) async throws {
        try await redis.send("HDEL", outboxKey, messageID)
    }

    // MARK: Brevo reads

    /// The child email an auth key resolved to: nil when never asked, "" when Brevo did not know the key.
    func childEmail(authKey: String) async throws -> String? {
        try await lookUpChildEmail(authKey: authKey).email
    }

    /// What a sweep reads of an auth key before it resolves it: the child email it resolved to (nil when never asked,
    /// "" when Brevo did not know it) and the key's mark of its last save ("" for none), which
    /// ``rememberChildEmail(user:authKey:email:mark:)`` compares. One round trip.
    func lookUpChildEmail(authKey: String) async throws -> (email: String?, mark: String) {
        let replies = try await redis.pipeline([RedisCommand("HGET", childEmailsKey, authKey), RedisCommand("HGET", authKeySetKey, authKey)])
        return (replies[0].string, replies[1].string ?? "")
    }

    /// Remembers what an auth key resolved to ("" for unknown), only while one of `user`'s thresholds still names it
    /// and no threshold was saved with it since `mark` was read (the resolve is an HTTP call: the threshold may have been
    /// deleted, given another key, or saved again, which asks for a fresh resolve, meanwhile). True when remembered.
    ///
    /// KEYS[1] thresholds · KEYS[2] child emails · KEYS[3] auth keys' marks · ARGV[1] auth key · ARGV[2] email · ARGV[3] mark.
    @discardableResult
    func rememberChildEmail(user: String, authKey: String, email: String, mark: String) async throws -> Bool {
        try await redis.run(
            Self.rememberEmailScript, keys: [thresholdsKey(user), childEmailsKey, authKeySetKey], arguments: [authKey, email, mark]
        ).int == 1
    }

    /// Where the next children page starts.
    func brevoCursor() async throws -> Int {
        Int(try await redis.send("GET", brevoCursorKey).string ?? "") ?? 0
    }

    func setBrevoCursor(_ offset: Int) async throws {
        try await redis.send("SET", brevoCursorKey, String(offset))
    }

    /// Takes one unit of this clock hour's Brevo budget; false when it is spent.
    ///
    /// KEYS[1] the hour's budget · ARGV[1] limit.
    func takeBrevoBudget(hour: Int, limit: Int) async throws -> Bool {
        let left = try await redis.run(Self.brevoBudgetScript, keys: [brevoBudgetKey(hour: hour)], arguments: [String(limit)])
        return (left.int ?? -1) >= 0
    }

    // MARK: Scripts

    /// `Lua/credit_evaluate.lua`.
    static let evaluateScript = RedisScript(name: "reminders.low_credit.evaluate", embedded: PackageResources.credit_evaluate_lua)
    /// `Lua/credit_release_silent.lua`.
    static let releaseSilentScript = RedisScript(name: "reminders.low_credit.release_silent", embedded: PackageResources.credit_release_silent_lua)
    /// `Lua/credit_rearm_announced.lua`.
    static let rearmAnnouncedScript = RedisScript(name: "reminders.low_credit.rearm_announced", embedded: PackageResources.credit_rearm_announced_lua)
    /// A script that reads stored threshold records: `Lua/credit_record.lua` (`credit_auth_key`), then its own text.
    static func recordScript(name: String, embedded bytes: [UInt8]) -> RedisScript {
        RedisScript(name: name, embedded: PackageResources.credit_record_lua + bytes)
    }
    /// `Lua/credit_save_threshold.lua`.
    static let saveThresholdScript = recordScript(name: "reminders.low_credit.save", embedded: PackageResources.credit_save_threshold_lua)
    /// `Lua/credit_remember_email.lua`.
    static let rememberEmailScript = recordScript(name: "reminders.low_credit.remember_email", embedded: PackageResources.credit_remember_email_lua)
    /// `Lua/credit_record_balance.lua`.
    static let recordBalanceScript = recordScript(name: "reminders.low_credit.record_balance", embedded: PackageResources.credit_record_balance_lua)
    /// `Lua/credit_delete_threshold.lua`.
    static let deleteThresholdScript = recordScript(name: "reminders.low_credit.delete", embedded: PackageResources.credit_delete_threshold_lua)
    /// `Lua/credit_brevo_budget.lua`.
    static let brevoBudgetScript = RedisScript(name: "reminders.brevo_budget", embedded: PackageResources.credit_brevo_budget_lua)
}
