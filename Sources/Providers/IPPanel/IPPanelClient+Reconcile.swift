import Foundation
import HoopoeJSON

/// Finding out whether a send whose answer was lost went out (docs/providers.md §1 rule 2; seed 003's reports).
///
/// An IPPanel send has no dedupe key, so after a timeout or a dropped connection the only honest way to avoid both a
/// double SMS and a lost one is to ask the outbox: `report/new_list` lists the bulks created on our line since the
/// attempt, `report/recipients` tells which one was for this recipient, and `report/by_bulk` gives its current
/// `state_id` (a bulk that ended 7 cancelled, 8 no credit or 9 system error did not go out).
extension IPPanelClient {
    /// One page of `POST /api/report/new_list`: bulks, newest first, and whether more pages follow.
    public func outboxList(page: Int = 1, limit: Int = 100, filters: [String: JSONValue] = [:]) async throws(ProviderError)
        -> (bulks: [IPPanelBulk], lastPage: Int)
    {
        var meta: JSONValue?
        let data = try await callWithMeta(
            "report/new_list", path: "/api/report/new_list",
            body: ["page": .integer(Int64(page)), "limit": .integer(Int64(limit)), "filters": .object(filters)], meta: &meta)
        let rows = data?.arrayValue ?? []
        // Without `last_page`, a full page may have more after it: one page more is asked, never "that was all".
        let lastPage = meta?["last_page"]?.int64Value.map { Int(clamping: $0) } ?? (rows.count >= limit ? page + 1 : page)
        return (rows.compactMap(IPPanelBulk.init(json:)), lastPage)
    }

    /// The bulk a pattern send to `recipient` created on our line between `since` and `until`, if the provider has one
    /// that did not end unsent; nil when it has none (the send did not go out: safe to send again).
    ///
    /// `new_list` lists newest first, so the lost send's bulk, the oldest in the window, is on its last page: a window
    /// of more bulks than `maximumPages` pages hold (a morning's reminder sweep on a shared line) cannot be read whole,
    /// and that is an error to retry on, never "not sent" (which sent the SMS a second time).
    /// - Parameters:
    ///   - recipient: E.164 with `+`, as sent.
    ///   - since: a moment before the attempt began (the caller allows for clock skew).
    ///   - until: a moment after the attempt could have been sent (nil: no bound): bulks created later are not listed.
    ///   - values: the pattern's parameter values: a bulk whose text lacks one of them is another message to the same
    ///     recipient (a low-credit SMS minutes after a reminder), not this one.
    ///   - maximumPages: how many `new_list` pages (100 bulks each) to look through.
    /// - Throws: ``ProviderError`` `outbox-full` (retry) when the window holds more pages than `maximumPages`.
    public func findSend(to recipient: String, since: Date, until: Date? = nil, values: [String] = [], maximumPages: Int = 20) async throws(ProviderError)
        -> IPPanelBulk?
    {
        // `since` comes from a stored value: a non-finite one must not trap (it then means "from the start").
        let from = Int64(exactly: since.timeIntervalSince1970.rounded(.down)) ?? 0
        var filters: [String: JSONValue] = ["number": .string(configuration.fromNumber), "create_from_date": .string(String(from))]
        if let until, let to = Int64(exactly: until.timeIntervalSince1970.rounded(.up)) {
            filters["create_to_date"] = .string(String(to))
        }
        let pages = max(1, maximumPages)
        var page = 1
        while true {
            let (bulks, lastPage) = try await outboxList(page: page, limit: 100, filters: filters)
            for candidate in bulks where Int64(candidate.recipientCount ?? 1) == 1 {
                if let text = candidate.message, !text.isEmpty, !values.allSatisfy({ text.contains($0) }) { continue }
                let recipients = try await recipientsReport(bulkID: candidate.id, page: 1, perPage: 10)
                guard let row = recipients.recipients.first(where: { $0.recipient == recipient }) else { continue }
                if !row.message.isEmpty && !values.allSatisfy({ row.message.contains($0) }) { continue }
                let current = try await outboxReport(bulkID: candidate.id)
                // 3 rejected, 4 bad recipients, 7 cancelled, 8 no credit, 9 system error: it did not go out.
                if [3, 4, 7, 8, 9].contains(current.stateID) { continue }
                return current
            }
            if page >= lastPage || bulks.isEmpty { return nil }
            guard page < pages else {
                throw ProviderError(
                    provider: .ippanel, operation: "report/new_list", kind: .unparseableResponse, code: "outbox-full",
                    message: "the outbox lists \(lastPage) pages of bulks for the send's window, more than the \(pages) read; whether it went out cannot be read",
                    disposition: .retry(after: nil))
            }
            page += 1
        }
    }
}
