import Foundation
import Redis

/// The expiration reminders' Redis area (jobs/types/subscription.upsert.md, reminders.expiration.md): every key
/// shares the `{reminders}` hash tag, so each script's keys sit in one Redis Cluster slot. Every state change that
/// must not be seen half-done is one script call (`Lua/reminders_*.lua`).
struct SubscriptionStore: Sendable {
    let services: DomainServices
    var redis: StoreRedis { services.redis }

    // MARK: Keys

    /// Hash per user: `phone`, `first_name`, `plan`, `receipt_id`, `email`, `expires_at` (Unix s), `offsets` (those
    /// scheduled), `updated_at`. Expires 40 days after the expiry.
    func subscriptionKey(_ user: String) -> String { services.key("{reminders}:sub:\(user)") }
    /// Sorted set of pending reminders `<offset>|<expires_at>|<user>`, scored by the domain time they are due.
    var dueKey: String { services.key("{reminders}:due") }
    /// Sorted set of reminders a sweep has taken from the due set and not finished, scored by the real claim time;
    /// a claim older than the lease is taken again by the next sweep (crash recovery).
    var claimedKey: String { services.key("{reminders}:claimed") }
    /// Hash of the claims job `claimant` made and has not finished (member → its score in ``claimedKey``), kept two days:
    /// the same job run again (its release failed, or its worker died) takes them back at once (reminders_claim.lua).
    func claimsKey(_ claimant: String) -> String { services.key("{reminders}:claims:\(claimant)") }
    /// Hash per user: `<expires_at>|<offset>` → `<queue>|<sms.send job id>` (and `<expires_at>|<offset>|email` →
    /// `<queue>|<email.send job id>`) of released reminders, so a renewal can cancel the ones still waiting. Expires
    /// 40 days after the last release.
    func releasedKey(_ user: String) -> String { services.key("{reminders}:jobs:\(user)") }
    /// Hash per user: `job`, `removed` (dropped reminders) and `cancelled` of the `subscription.delete` that removed the
    /// subscription, kept a day: that job run again answers as its first run did (reminders_delete.lua).
    func deletedKey(_ user: String) -> String { services.key("{reminders}:deleted:\(user)") }

    // MARK: Subscriptions

    /// A subscription as `subscription.upsert` records it.
    struct Subscription: Sendable {
        var user: String
        /// Unix seconds (0 in a record that lost it).
        var expiresAt: Int64
        var phone: String
        var firstName: String
        var plan: String
        var receiptID: String
        var email: String
    }

    /// What ``upsert(_:now:ttl:reminders:)`` found and did.
    struct UpsertOutcome: Sendable {
        /// `new`, `renewed` or `same`.
        var outcome: String
        /// The expiry before a renewal.
        var previousExpiresAt: Int64?
        /// Pending reminders of the old expiry dropped.
        var dropped: Int
        /// Released jobs of any expiry but the current one, to cancel and then forget.
        var toCancel: [ReleasedEntry]
    }

    /// One released job as recorded in the user's released hash (``releasedKey(_:)``).
    struct ReleasedEntry: Sendable, Equatable {
        /// `<expires_at>|<offset>` (and `|email` for the email).
        var field: String
        /// `<queue>|<job id>`, and for an SMS `|<message id>` after it (``ReleasedReminders/entry(queue:job:smsMessageID:)``).
        var job: String

        /// The field, value pairs a script returned from `HGETALL`.
        static func pairs(_ replies: ArraySlice<RedisReply>) -> [ReleasedEntry] {
            let strings = replies.compactMap(\.string)
            return stride(from: 0, to: strings.count - 1, by: 2).map { ReleasedEntry(field: strings[$0], job: strings[$0 + 1]) }
        }
    }

    /// Records a subscription and schedules `reminders` (offset, due time); on a new expiry drops the old one's
    /// pending reminders. Hands back, on every call, the released jobs of any other expiry: they stay recorded until
    /// ``forgetReleased(_:_:)``, so a retry after a crash before their cancels still finds them.
    ///
    /// KEYS[1] subscription · KEYS[2] due · KEYS[3] released.
    /// ARGV[1] user · [2] expires_at · [3] phone · [4] first_name · [5] plan · [6] receipt_id · [7] updated_at
    /// · [8] TTL s · [9] email · [10] the job's id (its run again gets its own outcome back, not `same`) · [11…] offset, due
    /// pairs.
    func upsert(_ sub: Subscription, now: Date, ttl: Int, reminders: [(offset: Int, due: Date)], jobID: String) async throws -> UpsertOutcome {
        var arguments = [sub.user, String(sub.expiresAt), sub.phone, sub.firstName, sub.plan, sub.receiptID,
                         String(format: "%.0f", now.timeIntervalSince1970), String(ttl), sub.email, jobID]
        for (offset, due) in reminders { arguments += [String(offset), String(Int64(due.timeIntervalSince1970))] }
        let reply = try await redis.run(
            Self.upsertScript, keys: [subscriptionKey(sub.user), dueKey, releasedKey(sub.user)], arguments: arguments)
        let parts = reply.array ?? []
        return UpsertOutcome(
            outcome: parts.first?.string ?? "new", previousExpiresAt: parts.count > 1 ? parts[1].string.flatMap { Int64($0) } : nil,
            dropped: parts.count > 2 ? parts[2].int ?? 0 : 0, toCancel: ReleasedEntry.pairs(parts.dropFirst(3)))
    }

    /// Forgets a subscription and its pending reminders; hands back its released jobs to cancel, which stay recorded
    /// until ``forgetReleased(_:_:)`` (a retry after a crash before their cancels still finds them).
    ///
    /// `jobID` run again gets its first run's `existed` and `dropped` back.
    ///
    /// KEYS[1] subscription · KEYS[2] due · KEYS[3] released · KEYS[4] deleted · ARGV[1] user · ARGV[2] job id.
    func delete(_ user: String, jobID: String) async throws -> (existed: Bool, dropped: Int, toCancel: [ReleasedEntry]) {
        let reply = try await redis.run(
            Self.deleteScript, keys: [subscriptionKey(user), dueKey, releasedKey(user), deletedKey(user)], arguments: [user, jobID])
        let parts = reply.array ?? []
        return (parts.first?.int == 1, parts.count > 1 ? parts[1].int ?? 0 : 0, ReleasedEntry.pairs(parts.dropFirst(2)))
    }

    /// Adds `count` jobs cancelled by job `jobID` to its record (the subscription's `upsert_cancelled` after an upsert,
    /// the delete mark's `cancelled` after a delete), while the record names that job; returns the count kept, or
    /// `count` when the record names another job. A run again of the job (its event write failed) finds its cancels
    /// forgotten (``forgetReleased(_:_:)``) and announces what the record kept.
    ///
    /// KEYS[1] the record · ARGV[1] job field · ARGV[2] job id · ARGV[3] count field · ARGV[4] count.
    func countCancelled(_ count: Int, by jobID: String, user: String, deleting: Bool) async throws -> Int {
        let (key, jobField, countField) = deleting ? (deletedKey(user), "job", "cancelled") : (subscriptionKey(user), "upsert_job", "upsert_cancelled")
        let kept = try await redis.run(Self.countCancelledScript, keys: [key], arguments: [jobField, jobID, countField, String(count)]).int ?? -1
        return kept < 0 ? count : kept
    }

    /// The user's subscription, nil when there is none.
    func subscription(_ user: String) async throws -> Subscription? {
        let fields = try await redis.send("HGETALL", subscriptionKey(user)).hashFields
        guard !fields.isEmpty else { return nil }
        return Subscription(
            user: user, expiresAt: fields["expires_at"].flatMap { Int64($0) } ?? 0, phone: fields["phone"] ?? "",
            firstName: fields["first_name"] ?? "", plan: fields["plan"] ?? "", receiptID: fields["receipt_id"] ?? "",
            email: fields["email"] ?? "")
    }

    /// The user's current expiry (Unix seconds), nil without a subscription.
    func expiresAt(_ user: String) async throws -> Int64? {
        try await redis.send("HGET", subscriptionKey(user), "expires_at").string.flatMap { Int64($0) }
    }

    /// Remembers released jobs (`field` → `<queue>|<id>`) so a renewal or delete can cancel them, for `ttl` seconds.
    func recordReleased(_ user: String, _ entries: [(field: String, job: String)], ttl: Int) async throws {
        let key = releasedKey(user)
        _ = try await redis.pipeline(entries.map { RedisCommand("HSET", key, $0.field, $0.job) } + [RedisCommand("EXPIRE", key, String(ttl))])
    }

    /// Forgets released jobs once they are cancelled (a field recorded again since is one the caller did not see,
    /// and cannot be: each release records its field once).
    func forgetReleased(_ user: String, _ entries: [ReleasedEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await redis.send(RedisCommand("HDEL", [releasedKey(user)] + entries.map(\.field)))
    }

    // MARK: Claims

    /// Takes up to `limit` reminders for one sweep: claims whose lease ran out first, then those due at `now`; with
    /// each, the other `offsets` of its (expiry, user) that are due too, so one call holds every due offset of an
    /// expiry and only the nearest is sent. Returns them and Redis's time of the claim (Unix s): the claims are any
    /// sweep's to take `lease` seconds after it.
    ///
    /// First of all, the unfinished claims `claimant` (the sweep's job id) made in an earlier run.
    ///
    /// KEYS[1] due · KEYS[2] claimed · KEYS[3] claims:<claimant> · ARGV[1] domain now (Unix s) · ARGV[2] limit ·
    /// ARGV[3] lease s · ARGV[4...] offsets.
    func claim(now: Date, limit: Int, lease: Int, offsets: [Int], claimant: String) async throws -> (members: [String], claimedAt: Int) {
        let reply = try await redis.run(
            Self.claimScript, keys: [dueKey, claimedKey, claimsKey(claimant)],
            arguments: [String(Int(now.timeIntervalSince1970)), String(limit), String(lease)] + offsets.map(String.init))
        let parts = reply.array ?? []
        return ((parts.count > 1 ? parts[1].array ?? [] : []).compactMap(\.string), parts.first?.int ?? 0)
    }

    /// Takes one due reminder (the late one an upsert releases itself), or takes back the unfinished claim of it
    /// `claimant` (the upsert's job id) made in an earlier run; false when a sweep took it first.
    ///
    /// KEYS[1] due · KEYS[2] claimed · KEYS[3] claims:<claimant> · ARGV[1] member.
    func claimOne(_ member: String, claimant: String) async throws -> Bool {
        try await redis.run(Self.claimOneScript, keys: [dueKey, claimedKey, claimsKey(claimant)], arguments: [member]).int == 1
    }

    /// When the earliest of the pending reminders of one (expiry, user) at `offsets` is due (domain time; their
    /// scores in the due set), nil when none of them is pending.
    func earliestDue(user: String, expiresAt: Int64, offsets: [Int]) async throws -> Date? {
        guard !offsets.isEmpty else { return nil }
        let replies = try await redis.pipeline(offsets.map { RedisCommand("ZSCORE", dueKey, "\($0)|\(expiresAt)|\(user)") })
        return replies.compactMap { $0.string.flatMap(Double.init) }.min().map { Date(timeIntervalSince1970: $0) }
    }

    /// Finishes `claimant`'s claims: released, skipped or unreadable members leave the claimed set.
    func finishClaims(_ members: [String], claimant: String) async throws {
        guard !members.isEmpty else { return }
        _ = try await redis.pipeline([RedisCommand("ZREM", [claimedKey] + members), RedisCommand("HDEL", [claimsKey(claimant)] + members)])
    }

    // MARK: Scripts

    /// `Lua/reminders_upsert.lua`.
    static let upsertScript = RedisScript(name: "reminders.upsert", embedded: PackageResources.reminders_upsert_lua)
    /// `Lua/reminders_delete.lua`.
    static let deleteScript = RedisScript(name: "reminders.delete", embedded: PackageResources.reminders_delete_lua)
    /// `Lua/reminders_count_cancelled.lua`.
    static let countCancelledScript = RedisScript(name: "reminders.count_cancelled", embedded: PackageResources.reminders_count_cancelled_lua)
    /// `Lua/reminders_claim.lua`.
    static let claimScript = RedisScript(name: "reminders.claim", embedded: PackageResources.reminders_claim_lua)
    /// `Lua/reminders_claim_one.lua`.
    static let claimOneScript = RedisScript(name: "reminders.claim_one", embedded: PackageResources.reminders_claim_one_lua)
}
