/// `subscription.upserted` (`subscription.upsert`). The offsets and `late_offset` are left out when the expiry
/// did not change (`same`); `previous_expires_at` and `dropped_reminders` come only with `renewed`.
struct SubscriptionUpserted: DomainEvent {
    static let name = "subscription.upserted"
    var userID: String
    var expiresAt: Int64
    /// `new`, `renewed` or `same`.
    var outcome: String
    var cancelledJobs: Int
    var scheduledOffsets: [Int]?
    var skippedOffsets: [Int]?
    /// The reminder released at once (present, maybe null, unless `same`).
    var lateOffset: OrNull<Int>?
    var previousExpiresAt: Int64?
    var droppedReminders: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", expiresAt = "expires_at", outcome, cancelledJobs = "cancelled_jobs",
            scheduledOffsets = "scheduled_offsets", skippedOffsets = "skipped_offsets", lateOffset = "late_offset",
            previousExpiresAt = "previous_expires_at", droppedReminders = "dropped_reminders"
    }
}

/// `subscription.deleted` (`subscription.delete`).
struct SubscriptionDeleted: DomainEvent {
    static let name = "subscription.deleted"
    var userID: String
    var existed: Bool
    var droppedReminders: Int
    var cancelledJobs: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", existed, droppedReminders = "dropped_reminders", cancelledJobs = "cancelled_jobs"
    }
}

/// `reminder.queued` of an expiration reminder: one per channel (`sms`, `email`).
struct ExpirationReminderQueued: DomainEvent {
    static let name = "reminder.queued"
    var userID: String
    var kind = "expiration"
    var channel: String
    var expiresAt: Int64
    var offset: Int
    var daysLeft: Int
    var messageID: String
    var jobID: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", kind, channel, expiresAt = "expires_at", offset, daysLeft = "days_left", messageID = "message_id",
            jobID = "job_id"
    }
}

/// `reminder.queued` of a low-credit reminder.
struct LowCreditReminderQueued: DomainEvent {
    static let name = "reminder.queued"
    var userID: String
    var kind = "low_credit"
    var thresholdID: OrNull<String>
    var threshold: String
    var balance: String
    var messageID: String
    var jobID: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", kind, thresholdID = "threshold_id", threshold, balance, messageID = "message_id", jobID = "job_id"
    }
}

/// `reminder.skipped`: a due expiration reminder was not sent (`superseded`, `expired`, `renewed`, `deleted`).
struct ReminderSkipped: DomainEvent {
    static let name = "reminder.skipped"
    var userID: String
    var kind = "expiration"
    var expiresAt: Int64
    var offset: Int
    var reason: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", kind, expiresAt = "expires_at", offset, reason
    }
}

/// `reminder.rearmed`: a fired low-credit threshold is armed again (the balance is back at or above it).
struct ReminderRearmed: DomainEvent {
    static let name = "reminder.rearmed"
    var userID: String
    var kind = "low_credit"
    var thresholdID: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", kind, thresholdID = "threshold_id"
    }
}

/// `credit.threshold.saved` (`credit.threshold.set`).
struct CreditThresholdSaved: DomainEvent {
    static let name = "credit.threshold.saved"
    var userID: String
    var thresholdID: String
    var threshold: Double
    /// True when the threshold carries a Brevo auth key (the balance is read from Brevo).
    var brevo: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", thresholdID = "threshold_id", threshold, brevo
    }
}

/// `credit.threshold.deleted` (`credit.threshold.delete`).
struct CreditThresholdDeleted: DomainEvent {
    static let name = "credit.threshold.deleted"
    var userID: String
    var thresholdID: String
    var existed: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", thresholdID = "threshold_id", existed
    }
}

/// `credit.balance.recorded` (`credit.balance`).
struct CreditBalanceRecorded: DomainEvent {
    static let name = "credit.balance.recorded"
    var userID: String
    var credits: Double
    var source = "job"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", credits, source
    }
}

/// `credit.balances.read`: what one `reminders.low_credit` run read from Brevo.
struct CreditBalancesRead: DomainEvent {
    static let name = "credit.balances.read"
    var requests: Int
    var matched: Int
    var wanted: Int
    var budgetSpent: Bool
    /// When Brevo failed: `[code] message`.
    var error: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requests, matched, wanted, budgetSpent = "budget_spent", error
    }
}

/// `credit.balance.unmatched`: Brevo does not know a user's auth key.
struct CreditBalanceUnmatched: DomainEvent {
    static let name = "credit.balance.unmatched"
    var userID: String
    var reason: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", reason
    }
}
