import Foundation

/// Finding out whether a `verify/lookup` whose answer was lost went out (seed 002: `sms/selectoutbox`,
/// `sms/latestoutbox`; docs/providers.md §2.4.7).
///
/// A lookup has no `localid`, so after a timeout or a dropped connection re-sending blindly may text the user twice.
/// The account's outbox lists what was sent: `sms/selectoutbox` from a start date (at most 3 days back; with no end
/// date, up to now; at most 500 rows), each row with `receptor`, `message` (for a lookup, the filled template),
/// `date` and `status`. Both outbox methods need the server's IP whitelisted in the panel, else `407`.
extension KavenegarClient {
    /// `sms/selectoutbox` from `startDate` to `endDate` (nil: now).
    public func selectOutbox(from startDate: Date, to endDate: Date? = nil) async throws(ProviderError) -> [KavenegarMessage] {
        var fields = [("startdate", String(Self.unixSeconds(startDate, .down)))]
        fields.append(("enddate", endDate.map { String(Self.unixSeconds($0, .up)) } ?? ""))
        let envelope = try await call(
            "sms/selectoutbox", fields: fields, idempotent: true, attemptCap: nil, senderIsOurs: true, logMetadata: [:])
        return envelope.entryList.compactMap(KavenegarMessage.init(json:))
    }

    /// `sms/latestoutbox`: the last `pageSize` (≤ 500) messages sent, newest first.
    public func latestOutbox(pageSize: Int = 500) async throws(ProviderError) -> [KavenegarMessage] {
        let envelope = try await call(
            "sms/latestoutbox", fields: [("pagesize", String(min(max(pageSize, 1), 500)))], idempotent: true,
            attemptCap: nil, senderIsOurs: true, logMetadata: [:])
        return envelope.entryList.compactMap(KavenegarMessage.init(json:))
    }

    /// The message a lookup to `receptor` sent between `since` and `until`, if the outbox has one carrying every token
    /// value; nil when it has none (the lookup did not go out: safe to send again).
    ///
    /// `sms/selectoutbox` answers at most ``outboxRowLimit`` rows, oldest first, with no next page. A full answer that
    /// lacks the message does not say it was not sent (a sweep of a thousand reminders fills a minute's window), so
    /// the window is halved and both halves are asked, down to a second; a second that still fills a page cannot be
    /// read whole, and that is an error to retry on, never "not sent".
    /// - Parameters:
    ///   - receptor: the number as sent (any of the seed's formats: matched on its last 10 digits).
    ///   - since: a moment before the attempt began (the caller allows for clock skew); clamped to 3 days back.
    ///   - until: a moment after the attempt could have been sent (nil: now); at most a day after `since`.
    ///   - values: the tokens' values: a message lacking one of them is another SMS to the same number.
    public func findLookup(to receptor: String, since: Date, until: Date? = nil, values: [String]) async throws(ProviderError) -> KavenegarMessage? {
        let now = Date()
        let earliest = now.addingTimeInterval(-3 * 86_400 + 60)
        // Both come from a stored value (the ledger's `unknown_since`, which anyone can edit): a time past any clock
        // (1e300) is sent clamped (``unixSeconds(_:_:)``), which the outbox refuses as an error; it trapped the
        // conversion and stopped the worker.
        let start = since.timeIntervalSince1970.isFinite ? max(since, earliest) : earliest
        // A day after the start as sent (whole seconds, rounded down): a day after a fractional start was sent rounded
        // up, 86401 s after it, and the outbox refused the window (417).
        let dayLater = Date(timeIntervalSince1970: Double(Self.unixSeconds(start, .down))).addingTimeInterval(86_400)
        let end = min(until.flatMap { $0.timeIntervalSince1970.isFinite ? $0 : nil } ?? now, now, dayLater)
        return try await findLookup(to: Self.nationalDigits(receptor), from: start, to: end, values: values)
    }

    /// `date` as whole Unix seconds, rounded `rule`: clamped to Int64 (a NaN is 0), where `Int64(_:)` traps on a value
    /// past it.
    static func unixSeconds(_ date: Date, _ rule: FloatingPointRoundingRule) -> Int64 {
        let seconds = date.timeIntervalSince1970.rounded(rule)
        if let exact = Int64(exactly: seconds) { return exact }
        return seconds > 0 ? .max : seconds < 0 ? .min : 0
    }

    /// The rows `sms/selectoutbox` answers at most (seed 002).
    static let outboxRowLimit = 500

    private func findLookup(to wanted: String, from start: Date, to end: Date, values: [String]) async throws(ProviderError) -> KavenegarMessage? {
        let rows = try await selectOutbox(from: start, to: end)
        let found = rows.last { row in
            Self.nationalDigits(row.receptor) == wanted && (row.date ?? Int64.max) >= Self.unixSeconds(start, .down)
                && values.allSatisfy { row.message.contains($0) }
                && ![6, 13, 14, 100].contains(row.status)  // failed, cancelled, blocked: it did not go out
        }
        if found != nil || rows.count < Self.outboxRowLimit { return found }
        let span = end.timeIntervalSince(start)
        guard span > 1 else {
            throw ProviderError(
                provider: .kavenegar, operation: "sms/selectoutbox", kind: .unparseableResponse, code: "outbox-full",
                message: "the outbox lists \(rows.count) rows for one second, its most; whether the lookup went out cannot be read",
                disposition: .retry(after: nil))
        }
        let middle = start.addingTimeInterval(span / 2)
        if let earlier = try await findLookup(to: wanted, from: start, to: middle, values: values) { return earlier }
        return try await findLookup(to: wanted, from: middle, to: end, values: values)
    }

    /// The last 10 digits of an Iranian mobile number in any of its forms.
    static func nationalDigits(_ number: String) -> String { String(number.filter { $0.isASCII && $0.isNumber }.suffix(10)) }
}
