import Foundation
import HoopoeCore
import HoopoeJobs

extension Dashboard {
    /// How many of the newest events the Providers page reads: a bounded `XREVRANGE`, the same cost on any history.
    static let providerEventWindow = 2000

    /// `/providers`: the Kavenegar credit `sms.delivery_poll` last read, the recent alerts and provider failures, and the
    /// SMS messages by delivery state — as the domain jobs recorded them (``SMSLedger``, ``EventLog``), phones masked.
    func providersPage(_ query: FormFields) async throws -> Page {
        let credit = try await SMSLedger.lastCredit(redis: jobs.redis, namespace: jobs.namespace)
        let events = try await EventLog(redis: jobs.redis, namespace: jobs.namespace).recent(count: Self.providerEventWindow)
        let activity = ProviderActivity(events: events)
        let body: HTML = """
            <h2>Kavenegar credit</h2>\(creditSection(credit))
            <h2>Alerts</h2>\(noticeTable(activity.alerts, empty: "No provider alert in the recent events.", alerts: true))
            <h2>Provider errors</h2>\(noticeTable(activity.failures, empty: "No failed message in the recent events.", alerts: false))
            <h2>Messages by delivery state</h2>\(stateTable(activity))
            """
        return Page(title: "Providers", path: "/providers", readOnly: configuration.readOnly, body: body)
    }

    private func creditSection(_ credit: SMSLedger.CreditReading?) -> HTML {
        guard let credit else {
            return "<p class=\"muted\">Not read yet: <code>sms.delivery_poll</code> reads it every SMS_CREDIT_CHECK_MINUTES when Kavenegar is configured.</p>"
        }
        let amount: HTML = credit.remaining.map { "<strong class=\"credit\">\(Self.grouped($0))</strong> Rial" } ?? "<span class=\"muted\">no successful read yet</span>"
        let checked = credit.checkedAt.map { Clock.relative($0.timeIntervalSince1970) } ?? "-"
        return "<p>\(amount); last checked \(checked). Below KAVENEGAR_CREDIT_FLOOR it raises a <code>credit_low</code> alert.</p>"
    }

    private func noticeTable(_ notices: [ProviderActivity.Notice], empty: String, alerts: Bool) -> HTML {
        guard !notices.isEmpty else { return "<p class=\"muted\">\(empty)</p>" }
        let rows = notices.map { notice -> HTML in
            let what: HTML = alerts ? "\(notice.provider ?? "?") <code>\(notice.code ?? "?")</code>" : "<code>\(notice.event)</code>"
            return """
                <tr><td>\(Clock.relative(notice.at))</td><td>\(what)</td><td>\(notice.text)</td><td>\(notice.subject ?? "")</td></tr>
                """
        }
        let header: HTML = alerts ? "<th>Provider and code</th><th>Message</th><th>Operation</th>" : "<th>Event</th><th>Reason</th><th>About</th>"
        return "<table class=\"notices\"><thead><tr><th>When</th>\(header)</tr></thead><tbody>\(rows)</tbody></table>"
    }

    private func stateTable(_ activity: ProviderActivity) -> HTML {
        let note: HTML = "<p class=\"muted\">The SMS messages the newest \(activity.eventsRead) events mention (of at most \(Self.providerEventWindow)), each by its latest state.</p>"
        guard !activity.deliveryStates.isEmpty else { return "<p class=\"muted\">No SMS in the recent events.</p>" }
        let rows = activity.deliveryStates.map { row -> HTML in "<tr><td>\(row.state)</td><td class=\"num\">\(row.count)</td></tr>" }
        return "<table class=\"states\"><thead><tr><th>State</th><th class=\"num\">Messages</th></tr></thead><tbody>\(rows)</tbody></table>\(note)"
    }

    /// `12,345,678`.
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }
}
