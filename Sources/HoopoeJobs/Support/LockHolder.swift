import HoopoeCore

/// Who holds a run's lock (the key's value, `<job id>:<attempt>`) and how long it still has: what a run refused the
/// lock reads to choose when to try again (``SMSLedger`` and ``RegistrationStore`` own the keys; ``StoreRedis`` reads it).
struct LockHolder: Sendable {
    let token: String
    let remaining: Duration

    /// Seconds until a run refused the lock tries again. An earlier run of the same job holding it died holding it (this
    /// run was recovered after that one's lease lapsed) or stalls and may still act, so the lock is not taken from it:
    /// once, when it lapses, since retrying sooner spends the job's attempts. Another job holding it is working now:
    /// `otherJob` seconds. No holder any more: a second.
    static func retryDelay(_ holder: LockHolder?, for context: JobContext, otherJob: Double) -> Double {
        guard let holder else { return 1 }
        return holder.token.hasPrefix(context.id + ":") ? holder.remaining.seconds + 1 : otherJob
    }
}
