import Foundation
import HoopoeCore
import HoopoeJSON
import Providers

/// Reads the balances of users with a Brevo child (thresholds with `auth_key`) from the reseller children list,
/// 20 children a call, within the hourly budget `BREVO_BALANCE_REQUESTS_PER_HOUR`.
///
/// Matching: the list shows each child's email and id, not its auth key, so an auth key is resolved once to its
/// child's email with one `GET /reseller/children/{auth_key}` (remembered in `{credit}:child_email`); list entries
/// are then matched by email. Pages are read from a cursor kept in Redis, so a budget smaller than the account
/// spreads one pass over several sweeps. Every call takes one unit of the budget first (one Lua call, shared by all
/// workers); when the budget or Brevo's `x-sib-ratelimit-remaining` is spent, reading stops until a later sweep.
struct BrevoBalanceReader: Sendable {
    let services: DomainServices
    let brevo: BrevoClient

    /// What one read did.
    struct Outcome: Sendable {
        var requests = 0
        /// Users whose balance was read in this run.
        var matched = Set<String>()
        var budgetSpent = false
    }

    /// Reads balances for `wanted` (user → auth key), writing matches to `{credit}:balances`.
    /// - Throws: ``ProviderError`` from Brevo (the caller decides retry/alert); balances read before it are kept.
    func read(_ wanted: [String: String], outcome: inout Outcome) async throws {
        let store = CreditThresholdStore(services: services)
        // 1. auth key → email, once per child. Each match keeps the key and its mark: a balance is recorded only while
        // the user's threshold still names that key, as saved then (CreditThresholdStore.recordBalance).
        var emails: [String: Match] = [:]  // lowercased email → the user it is matched to
        for (user, authKey) in wanted.sorted(by: { $0.key < $1.key }) {
            let known = try await store.lookUpChildEmail(authKey: authKey)
            if let email = known.email {
                // "" marks an auth key Brevo did not know (re-resolved after the next credit.threshold.set).
                if !email.isEmpty { emails[email.lowercased()] = Match(user: user, authKey: authKey, mark: known.mark) }
                continue
            }
            guard try await takeBudget(&outcome) else { return }
            do {
                let child = try await brevo.child(.authKey(authKey))
                outcome.requests += 1
                // Not remembered: the user's threshold was saved meanwhile (another key, or this one again) or deleted,
                // so this answer may be another child's. Its email and credits are not the user's: the next sweep
                // resolves the key the threshold names now. (Used anyway, an old key's empty child fired a low-credit
                // SMS to a user whose current account had credit.)
                guard try await store.rememberChildEmail(user: user, authKey: authKey, email: child.value.email, mark: known.mark) else {
                    if child.rateLimit?.remaining == 0 { outcome.budgetSpent = true; return }
                    continue
                }
                emails[child.value.email.lowercased()] = Match(user: user, authKey: authKey, mark: known.mark)
                // The single-child view carries the credits too: use them now.
                if let credits = credits(of: child.value),
                    try await store.recordBalance(user: user, credits: String(credits), authKey: authKey, mark: known.mark)
                {
                    outcome.matched.insert(user)
                }
                if child.rateLimit?.remaining == 0 { outcome.budgetSpent = true; return }
            } catch let error as ProviderError
                where (error.httpStatus == 404 || error.httpStatus == 400) && error.kind != .unparseableResponse
            {
                // A stale or wrong auth key (404: no such child; 400: not an identifier Brevo takes): a data-integrity
                // problem of this user's payload, not a reason to stop the others. (A 400 once ended the whole read:
                // no user's balance was read again, and the sweep went to the dead set every run.) Brevo's own answer
                // only: a 404 page from a wrong base path says nothing of the key, and made every user "unmatched".
                outcome.requests += 1
                // A key the user's threshold no longer names (or names as saved anew) is no news about the user.
                guard try await store.rememberChildEmail(user: user, authKey: authKey, email: "", mark: known.mark) else { continue }
                let reason = error.httpStatus == 404 ? "brevo child not found for auth_key" : "brevo refused the auth_key (400 \(error.code))"
                try await services.events.emit(CreditBalanceUnmatched(userID: user, reason: reason), at: try await services.clock.now())
            }
        }
        // 2. Pages of the children list from the cursor, one pass at most, until every other user is found.
        guard emails.values.contains(where: { !outcome.matched.contains($0.user) }) else { return }
        var offset = try await store.brevoCursor()
        var read = 0
        while emails.values.contains(where: { !outcome.matched.contains($0.user) }) {
            guard try await takeBudget(&outcome) else { break }
            let page = try await brevo.listChildren(limit: BrevoClient.maximumPageSize, offset: offset)
            outcome.requests += 1
            for child in page.value.children {
                guard let match = emails[child.email.lowercased()], let credits = credits(of: child) else { continue }
                // Not recorded when the threshold was given another key (or none) while the pages were read: this
                // child's credits are another account's. The user is counted as read either way (no page more for it).
                try await store.recordBalance(user: match.user, credits: String(credits), authKey: match.authKey, mark: match.mark)
                outcome.matched.insert(match.user)
            }
            read += page.value.children.count
            offset += page.value.children.count
            let total = Int(page.value.count)
            if page.value.children.isEmpty || offset >= total { offset = 0 }
            try await store.setBrevoCursor(offset)
            if read >= total || page.value.children.isEmpty { break }
            if page.rateLimit?.remaining == 0 { outcome.budgetSpent = true; break }
        }
    }

    /// A child email's user, and the auth key (with its mark) it was matched by.
    struct Match: Sendable {
        let user: String
        let authKey: String
        let mark: String
    }

    func credits(of child: BrevoChild) -> Int64? {
        services.settings.reminders.brevoCredits == .email ? child.emailCredits : child.smsCredits
    }

    /// One unit of this hour's budget (real time: it is Brevo's limit, not a domain rule).
    func takeBudget(_ outcome: inout Outcome) async throws -> Bool {
        let hour = Int(Date().timeIntervalSince1970 / 3600)
        let limit = services.settings.reminders.brevoRequestsPerHour
        if try await !CreditThresholdStore(services: services).takeBrevoBudget(hour: hour, limit: limit) {
            outcome.budgetSpent = true
            return false
        }
        return true
    }
}
