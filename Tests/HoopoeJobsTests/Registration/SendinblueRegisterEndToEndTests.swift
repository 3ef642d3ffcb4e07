import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// `sendinblue.register` end to end: a real `hoopoe worker` process, the test Redis, and the fake Brevo programmed
/// with the faults of docs/providers.md §4.5 — including the must-show: Brevo times out after creating the child, and
/// the job neither creates a second child nor adds the credits twice.
@Suite struct SendinblueRegisterEndToEndTests {
    /// Retries after 1–2 s instead of 30 s–1 h, and alerts parked 2 s, so the paths finish within a test.
    static let fastRetries = [
        "REGISTRATION_RETRY_BASE_SECONDS": "1", "REGISTRATION_RETRY_MAX_SECONDS": "2", "REGISTRATION_STATUS_POLL_SECONDS": "0.1",
    ]

    /// A payload with a password no other test uses, so its absence from logs and the dead set can be checked.
    static func payload(user: String, email: String, password: String, language: JSONValue = "en") -> JSONValue {
        [
            "user_id": .string(user), "email": .string(email), "first_name": "Josh", "last_name": "Cruise",
            "company": "Your Company", "password": .string(password), "language": language,
            "plan": ["id": "3", "credit": ["email": 1200, "sms": 450], "ip": "123.65.8.22"],
        ]
    }

    static func uniquePassword() -> String { "Pw-\(UUID().uuidString.prefix(12))" }

    /// Runs `body` with a worker at debug level (the most it ever logs), then stops it and checks that the password
    /// never appeared in its output.
    static func withWorker(
        _ harness: DomainHarness, password: String, environment: [String: String] = [:], _ body: (ChildProcess) async throws -> Void
    ) async throws {
        let worker = try await harness.startWorker(environment: ["LOG_LEVEL": "debug"].merging(environment) { $1 })
        do {
            try await body(worker)
        } catch {
            worker.signal(SIGTERM)
            _ = await worker.wait(timeout: .seconds(30))
            throw error
        }
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) != nil)
        #expect(!worker.output.isEmpty)
        #expect(!worker.output.contains(password), "the worker logged the password")
    }

    /// The dead job's stored copy (raw), and that it holds no password. Waits for it: the handler emits
    /// `sendinblue.failed` just before the worker moves the job to the dead set.
    static func expectDeadWithoutPassword(_ harness: DomainHarness, id: String, password: String) async throws -> JobEnvelope {
        var dead: [JobEnvelope] = []
        _ = try await eventually(timeout: .seconds(20)) {
            dead = try await harness.dead()
            return dead.contains { $0.id == id }
        }
        let job = try #require(dead.first { $0.id == id }, "job \(id) is not in the dead set")
        #expect(job.payload["password"] == nil, "the dead-set copy keeps the password")
        let raw = try await harness.redis.send("HGET", harness.jobs.keys("default").deadJobs, id)
        let text = try #require(raw.string)
        #expect(!text.contains(password))
        #expect(job.payload["user_id"] != nil, "the rest of the payload is kept")
        return job
    }

    static func registered(_ harness: DomainHarness, timeout: Duration = .seconds(60)) async throws -> JSONValue {
        try #require(try await harness.waitForEvents("sendinblue.registered", timeout: timeout).first).data
    }

    /// Kingfisher's documented read path for the child's key (jobs/types/sendinblue.register.md, "The child's auth
    /// key"): `HGET <ns>:{registration}:user:<user_id> auth_key`.
    static func storedAuthKey(_ harness: DomainHarness, user: String) async throws -> String? {
        try await harness.redis.send("HGET", "\(harness.namespace):{registration}:user:\(user)", "auth_key").string
    }

    /// The key is a credential: no event on the stream carries it, in any field.
    static func expectNoKeyOnTheEventsStream(_ harness: DomainHarness, key: String) async throws {
        let raw = try await harness.redis.send("XRANGE", "\(harness.namespace):events", "-", "+")
        #expect(!"\(raw)".contains(key), "the events stream carries the child's auth key")
        #expect(!"\(raw)".contains("xkeysib-child"), "the events stream carries a child's auth key")
    }

    // MARK: - Happy path

    @Test func createsOneChildAddsCreditsAssociatesTheIPAndReportsTheAuthKey() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        await harness.control.setBrevoCreationPolls(2)
        try await Self.withWorker(harness, password: password) { _ in
            try await harness.enqueue("sendinblue.register", Self.payload(user: "u-1", email: "josh@example.com", password: password))
            let event = try await Self.registered(harness)
            let id = try #require(event["child_id"]?.int64Value)
            #expect(event["user_id"] == "u-1")
            #expect(event["auth_key"] == nil, "the event carries the child's auth key")
            #expect(event["auth_key_stored"] == true && event["adopted"] == false)
            #expect(try await Self.storedAuthKey(harness, user: "u-1") == "xkeysib-child-\(id)")
            try await Self.expectNoKeyOnTheEventsStream(harness, key: "xkeysib-child-\(id)")
            #expect(await harness.control.brevoChildEmails() == ["josh@example.com"])
            let credits = try #require(await harness.control.brevoChildCredits(id: id))
            #expect(credits.sms == 450 && credits.email == 1200)
            let associations = await harness.control.requests(to: .brevoAssociateIP)
            #expect(associations.count == 1)
            #expect(associations.first?.bodyText.contains("123.65.8.22") == true)
            // The creation was awaited before the credits: three status reads (two "not yet").
            #expect(await harness.control.requests(to: .brevoCreationStatus).count == 3)
            // The password went to Brevo, and only there.
            #expect(await harness.control.requests(to: .brevoCreateChild).first?.bodyText.contains(password) == true)

            // The progress record: id and key persisted, done, kept (a year and the retry window). Read once the job has
            // settled: the mark `registered_at` comes after the event (RegistrationStore.markRegistered), and read at the
            // event a loaded make test found it not yet written.
            try await harness.waitUntilIdle()
            let key = "\(harness.namespace):{registration}:user:u-1"
            let fields = try await harness.redis.send("HGETALL", key).array?.compactMap(\.string) ?? []
            let record = Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count - 1, by: 2).map { (fields[$0], fields[$0 + 1]) })
            #expect(record["child_id"] == String(id) && record["auth_key"] == "xkeysib-child-\(id)")
            #expect(record["registered_at"] != nil && record["credits_done"] == "1" && record["ip_done"] == "1")
            #expect(record["create_sent"] == nil && record["credits_sent"] == nil)
            #expect((try await harness.redis.send("TTL", key).int ?? 0) > 365 * 86_400)
            // The lock goes after the event and the mark, as the job's last step: once the job has settled.
            #expect(try await harness.redis.send("EXISTS", "\(harness.namespace):{registration}:lock:u-1").int == 0)

            // Another job for the same user (a caller retrying) does nothing twice.
            try await harness.enqueue("sendinblue.register", Self.payload(user: "u-1", email: "josh@example.com", password: password))
            try await harness.waitUntilIdle()
            #expect(await harness.control.requests(to: .brevoCreateChild).count == 1)
            #expect(await harness.control.requests(to: .brevoAddCredits).count == 1)
            #expect(try await harness.events("sendinblue.registered").count == 1)
            #expect(try await harness.dead().isEmpty)
        }
    }

    // MARK: - Unknown outcomes (must show)

    @Test func brevoTimesOutAfterCreatingTheChildNoSecondChildCreditsAddedOnce() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        // The child is created, but the answer comes after the client's 30 s limit.
        await harness.control.enqueue(.succeedThenDelay(.seconds(34)), for: .brevoCreateChild)
        try await Self.withWorker(harness, password: password) { _ in
            try await harness.enqueue("sendinblue.register", Self.payload(user: "u-2", email: "slow@example.com", password: password))
            let event = try await Self.registered(harness, timeout: .seconds(150))
            let control = harness.control
            #expect(await control.brevoChildEmails() == ["slow@example.com"], "a second child was created")
            #expect(await control.requests(to: .brevoCreateChild).count == 1)
            #expect(await control.requests(to: .brevoListChildren).count >= 1, "the job did not reconcile by listing the children")
            let id = try #require(event["child_id"]?.int64Value)
            let credits = try #require(await control.brevoChildCredits(id: id))
            #expect(credits.sms == 450 && credits.email == 1200, "credits: \(credits)")
            #expect(await control.requests(to: .brevoAddCredits).count == 1)
            // The lost answer held the auth key; a child found by email is reported by its id.
            #expect(event["auth_key"] == nil && event["auth_key_stored"] == false)
            #expect(try await Self.storedAuthKey(harness, user: "u-2") == nil)
            #expect(event["adopted"] == true, "the event says the key is missing because the child was adopted")
            #expect(try await harness.events("sendinblue.registered").count == 1)
        }
    }

    @Test func brevoTimesOutAfterAddingCreditsTheyAreNotAddedTwice() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        await harness.control.enqueue(.succeedThenDelay(.seconds(34)), for: .brevoAddCredits)
        try await Self.withWorker(harness, password: password) { _ in
            try await harness.enqueue("sendinblue.register", Self.payload(user: "u-3", email: "credits@example.com", password: password))
            let event = try await Self.registered(harness, timeout: .seconds(150))
            let id = try #require(event["child_id"]?.int64Value)
            let credits = try #require(await harness.control.brevoChildCredits(id: id))
            #expect(credits.sms == 450 && credits.email == 1200, "credits: \(credits)")
            #expect(await harness.control.requests(to: .brevoAddCredits).count == 1, "credits were sent again")
            // The balance was read before the add and again after the lost answer.
            #expect(await harness.control.requests(to: .brevoGetChild).count == 2)
            #expect(event["auth_key_stored"] == true)
            #expect(try await Self.storedAuthKey(harness, user: "u-3") == "xkeysib-child-\(id)")
        }
    }

    // MARK: - Dispositions (docs/providers.md §4.5)

    @Test func aRateLimitRetriesAtBrevosResetHint() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        await harness.control.enqueue(
            .brevo(httpStatus: 429, code: "too_many_requests", message: "Too many requests", headers: [FakeHeader("x-sib-ratelimit-reset", "6")]),
            for: .brevoCreateChild)
        try await Self.withWorker(harness, password: password) { _ in
            let enqueued = try await harness.enqueue("sendinblue.register", Self.payload(user: "u-4", email: "limited@example.com", password: password))
            let id = try #require(enqueued.createdID)
            var retryAt: Double?
            var failedAt: Double?
            _ = try await eventually(timeout: .seconds(20)) {
                if let found = try await harness.jobs.find(id: id, queue: "default"), case .scheduled(let at) = found.state {
                    #expect(found.envelope.lastError?.contains("429") == true)
                    retryAt = at
                    failedAt = found.envelope.failedAttempts?.last?.at
                }
                return retryAt != nil
            }
            // The policy alone would retry after ~1 s; the hint says 6. Counted from the failure, not the enqueue: a
            // loaded machine may take seconds to run the job.
            let delay = try #require(retryAt) - (try #require(failedAt))
            #expect(delay >= 4.5 && delay <= 8, "retry scheduled \(delay)s after the failure")
            _ = try await Self.registered(harness)
            #expect(await harness.control.requests(to: .brevoCreateChild).count == 2)
            #expect(await harness.control.brevoChildEmails() == ["limited@example.com"])
        }
    }

    /// A lost create-child answer on a reseller with many children: the search for the child is cut short by the
    /// hour's rate limit (429), and the retry goes on from the page it reached. It started from offset 0 at every
    /// attempt, so with more children than an hour's requests read it never found the child and the job died at 48 h.
    @Test func aChildSearchCutShortByTheRateLimitGoesOnWhereItStopped() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        let brevo = try #require(try harness.services().providers.brevo)
        for index in 0..<45 {
            _ = try await brevo.createChild(BrevoNewChild(email: "other\(index)@example.com", firstName: "F", lastName: "L", companyName: "C", password: "p"))
        }
        await harness.control.clearRequests()
        await harness.control.enqueue(.succeedThenDrop, for: .brevoCreateChild)
        try await Self.withWorker(harness, password: password) { _ in
            try await harness.enqueue("sendinblue.register", Self.payload(user: "u-many", email: "many@example.com", password: password))
            #expect(try await eventually(timeout: .seconds(20)) { await harness.control.requests(to: .brevoCreateChild).count == 1 })
            // Two pages, then the hour's budget is spent (its reset hint: 1 s).
            await harness.control.setBrevoRateLimit(limit: 100, remaining: 2, reset: 1)
            #expect(try await eventually(timeout: .seconds(20)) { await harness.control.requests(to: .brevoListChildren).count == 3 })
            await harness.control.setBrevoRateLimit(limit: 100, remaining: 100, reset: 1)
            let registered = try await Self.registered(harness)
            #expect(registered["user_id"] == "u-many")
            let offsets = await harness.control.requests(to: .brevoListChildren).map { $0.target.split(separator: "offset=").last.map(String.init) ?? "" }
            #expect(offsets == ["0", "20", "40", "40"], "the retry went on at 40: \(offsets)")
            #expect(await harness.control.requests(to: .brevoCreateChild).count == 1, "found, not created again")
        }
    }

    /// Brevo answers the create `400 duplicate_parameter` (the email has a child: the caller's own attempt made it
    /// before handing the job over) on a reseller with many children: the search for it, cut short by the hour's rate
    /// limit, goes on where it stopped. It started from offset 0 at every attempt (inside the create), so it never
    /// reached the child, and each attempt spent the hour's budget of every other Brevo job.
    @Test func aDuplicateEmailIsSearchedForAcrossAttempts() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        let brevo = try #require(try harness.services().providers.brevo)
        for index in 0..<45 {
            let email = index == 44 ? "existing@example.com" : "other\(index)@example.com"
            _ = try await brevo.createChild(BrevoNewChild(email: email, firstName: "F", lastName: "L", companyName: "C", password: "p"))
        }
        await harness.control.clearRequests()
        // The create and two pages, then the hour's budget is spent (its reset hint: 1 s).
        await harness.control.setBrevoRateLimit(limit: 100, remaining: 3, reset: 1)
        try await Self.withWorker(harness, password: password) { _ in
            try await harness.enqueue("sendinblue.register", Self.payload(user: "u-dup", email: "existing@example.com", password: password))
            #expect(try await eventually(timeout: .seconds(20)) { await harness.control.requests(to: .brevoListChildren).count == 3 })
            await harness.control.setBrevoRateLimit(limit: 100, remaining: 100, reset: 1)
            let registered = try await Self.registered(harness)
            #expect(registered["adopted"] == true)
            let offsets = await harness.control.requests(to: .brevoListChildren).map { $0.target.split(separator: "offset=").last.map(String.init) ?? "" }
            #expect(offsets == ["0", "20", "40", "40"], "the retry went on at 40: \(offsets)")
            #expect(await harness.control.requests(to: .brevoCreateChild).count == 1, "found, not created again")
            #expect(await harness.control.brevoChildEmails().filter { $0 == "existing@example.com" }.count == 1)
        }
    }

    @Test func alertsRaiseProviderAlertAndParkTheJobUntilFixed() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        await harness.control.enqueue(.brevo(httpStatus: 401, code: "unauthorized", message: "Key not found"), for: .brevoCreateChild)
        await harness.control.enqueue(.brevo(httpStatus: 402, code: "not_enough_credits", message: "Not enough credits"), for: .brevoAddCredits)
        try await Self.withWorker(harness, password: password) { _ in
            try await harness.enqueue("sendinblue.register", Self.payload(user: "u-5", email: "alert@example.com", password: password))
            let event = try await Self.registered(harness)
            let alerts = try await harness.events("provider.alert").map(\.data)
            #expect(alerts.count == 2)
            #expect(alerts.first?["provider"] == "brevo" && alerts.first?["code"] == "unauthorized")
            #expect(alerts.first?["operation"] == "reseller/createChild")
            #expect(alerts.last?["code"] == "not_enough_credits" && alerts.last?["operation"] == "reseller/addCredits")
            // Parked, then done: one child, the credits once.
            #expect(await harness.control.brevoChildEmails() == ["alert@example.com"])
            let id = try #require(event["child_id"]?.int64Value)
            let credits = try #require(await harness.control.brevoChildCredits(id: id))
            #expect(credits.sms == 450 && credits.email == 1200)
            #expect(try await harness.events("sendinblue.failed").isEmpty)
        }
    }

    @Test func transientFailuresAndASlowCreationAreRetriedWithoutDoingAnythingTwice() async throws {
        // One status read per attempt: a creation that needs three reads spans three attempts.
        let harness = try await DomainHarness(environment: Self.fastRetries.merging(["REGISTRATION_STATUS_POLLS": "1"]) { $1 })
        let password = Self.uniquePassword()
        await harness.control.setBrevoCreationPolls(2)
        // A 500 on create: the outcome is unknown, so the next attempt lists the children first (none) and creates.
        await harness.control.enqueue(.brevo(httpStatus: 500, code: "internal_error", message: "oops"), for: .brevoCreateChild)
        await harness.control.enqueue(.brevo(httpStatus: 503, code: "unavailable", message: "later"), for: .brevoCreationStatus)
        try await Self.withWorker(harness, password: password) { _ in
            try await harness.enqueue("sendinblue.register", Self.payload(user: "u-6", email: "flaky@example.com", password: password))
            let event = try await Self.registered(harness)
            let control = harness.control
            #expect(await control.brevoChildEmails() == ["flaky@example.com"])
            #expect(await control.requests(to: .brevoCreateChild).count == 2)
            #expect(await control.requests(to: .brevoListChildren).count >= 1)
            #expect(await control.requests(to: .brevoCreationStatus).count == 4)
            let id = try #require(event["child_id"]?.int64Value)
            let credits = try #require(await control.brevoChildCredits(id: id))
            #expect(credits.sms == 450 && credits.email == 1200)
            #expect(await control.requests(to: .brevoAddCredits).count == 1)
        }
    }

    @Test func permanentFailuresKillTheJobAndEmitSendinblueFailed() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        // Brevo refuses the input — and echoes the password in its message, which must not leak anywhere.
        await harness.control.enqueue(
            .brevo(httpStatus: 400, code: "invalid_parameter", message: "password \(password) is too weak"), for: .brevoCreateChild)
        try await Self.withWorker(harness, password: password) { worker in
            let first = try await harness.enqueue("sendinblue.register", Self.payload(user: "u-7", email: "weak@example.com", password: password))
            let failed = try await harness.waitForEvents("sendinblue.failed")
            #expect(failed.first?.data["user_id"] == "u-7")
            let reason = try #require(failed.first?.data["reason"]?.stringValue)
            #expect(reason.contains("invalid_parameter"))
            #expect(!reason.contains(password))
            let dead = try await Self.expectDeadWithoutPassword(harness, id: try #require(first.createdID), password: password)
            #expect(dead.deadReason?.contains("invalid_parameter") == true)
            #expect(dead.lastError?.contains(password) == false)
            #expect(await harness.control.brevoChildEmails().isEmpty)

            // A stored child Brevo no longer knows (404): permanent, with a data-integrity warning.
            await harness.control.enqueue(
                .brevo(httpStatus: 404, code: "document_not_found", message: "Child auth key or child id not found"), for: .brevoCreationStatus)
            let second = try await harness.enqueue("sendinblue.register", Self.payload(user: "u-8", email: "gone@example.com", password: password))
            let both = try await harness.waitForEvents("sendinblue.failed", count: 2)
            #expect(both.last?.data["user_id"] == "u-8")
            #expect(both.last?.data["reason"]?.stringValue?.contains("document_not_found") == true)
            _ = try await Self.expectDeadWithoutPassword(harness, id: try #require(second.createdID), password: password)
            #expect(try await harness.events("sendinblue.registered").isEmpty)
            #expect(worker.output.contains("data integrity: Brevo does not know the stored child (404)"), "\(worker.output)")
        }
    }

    /// Brevo's `409 duplicate_request` is retried once, after reconciling (docs/providers.md §4.5): a second one
    /// fails the job for good with `sendinblue.failed`, not 67 attempts over 48 hours. The count starts again, so the
    /// dead job retried by an operator gets its two tries, and finishes.
    @Test func aDuplicateRequestIsRetriedOnceThenFailsAndADeadSetRetryTriesAgain() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        for _ in 0..<2 {
            await harness.control.enqueue(.brevo(httpStatus: 409, code: "duplicate_request", message: "in progress"), for: .brevoAddCredits)
        }
        try await Self.withWorker(harness, password: password) { _ in
            let enqueued = try await harness.enqueue("sendinblue.register", Self.payload(user: "u-409", email: "dup@example.com", password: password))
            let id = try #require(enqueued.createdID)
            let failed = try #require(try await harness.waitForEvents("sendinblue.failed").first).data
            #expect(failed["reason"]?.stringValue?.contains("brevo duplicate_request is tried at most 2 times") == true, "\(failed)")
            _ = try await Self.expectDeadWithoutPassword(harness, id: id, password: password)
            #expect(await harness.control.requests(to: .brevoAddCredits).count == 2)

            #expect(try await harness.jobs.retryDead(id: id, queue: "default"))
            let event = try await Self.registered(harness)
            let childID = try #require(event["child_id"]?.int64Value)
            let credits = try #require(await harness.control.brevoChildCredits(id: childID))
            #expect(credits.sms == 450 && credits.email == 1200, "added once")
            #expect(await harness.control.requests(to: .brevoAddCredits).count == 3)
        }
    }

    /// The dead-set copy has no password; retried from the dead set, the job finishes the steps that do not need it.
    @Test func aDeadJobRetriedWithoutItsPasswordResumesAfterTheChildExists() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        await harness.control.enqueue(.brevo(httpStatus: 400, code: "invalid_parameter", message: "sms is invalid"), for: .brevoAddCredits)
        try await Self.withWorker(harness, password: password) { _ in
            let enqueued = try await harness.enqueue("sendinblue.register", Self.payload(user: "u-12", email: "again@example.com", password: password))
            let id = try #require(enqueued.createdID)
            _ = try await harness.waitForEvents("sendinblue.failed")
            _ = try await Self.expectDeadWithoutPassword(harness, id: id, password: password)
            // An operator fixed the cause and retries the dead copy (no password in it).
            #expect(try await harness.jobs.retryDead(id: id, queue: "default"))
            let event = try await Self.registered(harness)
            #expect(await harness.control.brevoChildEmails() == ["again@example.com"])
            #expect(await harness.control.requests(to: .brevoCreateChild).count == 1)
            let childID = try #require(event["child_id"]?.int64Value)
            let credits = try #require(await harness.control.brevoChildCredits(id: childID))
            #expect(credits.sms == 450 && credits.email == 1200)
            #expect(event["auth_key"] == nil && event["auth_key_stored"] == true)
        }
    }

    @Test func withoutBrevoAPIKeyTheJobWaitsAndSaysWhichVariableToSet() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        try await Self.withWorker(harness, password: password, environment: ["BREVO_API_KEY": ""]) { worker in
            let enqueued = try await harness.enqueue("sendinblue.register", Self.payload(user: "u-9", email: "nokey@example.com", password: password))
            let id = try #require(enqueued.createdID)
            var lastError: String?
            let retried = try await eventually(timeout: .seconds(20)) {
                guard let found = try await harness.jobs.find(id: id, queue: "default"), case .scheduled = found.state else { return false }
                lastError = found.envelope.lastError
                return true
            }
            #expect(retried, "the job was not scheduled for a retry")
            #expect(lastError?.contains("BREVO_API_KEY") == true, "last error: \(lastError ?? "none")")
            #expect(await harness.control.requests().isEmpty)
            #expect(try await harness.dead().isEmpty)
            #expect(worker.output.contains("BREVO_API_KEY"))
        }
    }

    @Test func aBadPayloadGoesToTheDeadSetWithItsReasonAndWithoutThePassword() async throws {
        let harness = try await DomainHarness(environment: Self.fastRetries)
        let password = Self.uniquePassword()
        try await Self.withWorker(harness, password: password) { _ in
            // Not even the payload's shape: no email.
            var shapeless = Self.payload(user: "u-10", email: "x@example.com", password: password)
            if case .object(var members) = shapeless { members["email"] = nil; shapeless = .object(members) }
            let first = try await harness.enqueue("sendinblue.register", shapeless)
            // The right shape, a value Brevo would refuse: caught before any call, reported as sendinblue.failed.
            let second = try await harness.enqueue(
                "sendinblue.register", Self.payload(user: "u-11", email: "y@example.com", password: password, language: "fa"))
            // Not even valid JSON (a lone surrogate the worker's quick scan lets through), written straight to the stream:
            // the dead set keeps such a job's raw text — but not for a type whose payload carries a secret.
            let raw = #"{"id":"j-surrogate","type":"sendinblue.register","payload":{"user_id":"u-12","first_name":"\ud800","password":""# + password + #""}}"#
            try await harness.redis.send("XADD", harness.jobs.keys("default").stream, "*", "job", raw)
            let failed = try await harness.waitForEvents("sendinblue.failed")
            try await harness.waitUntilIdle()
            let malformed = try #require(try await harness.dead().first { $0.type == "(malformed)" })
            #expect(malformed.deadReason?.hasPrefix("not a valid job envelope") == true)
            #expect(malformed.payload.stringValue?.contains("withheld") == true)
            let stored = try await harness.redis.send("HVALS", harness.jobs.keys("default").deadJobs).array?.compactMap(\.string) ?? []
            #expect(stored.count == 3)
            #expect(!stored.contains { $0.contains(password) }, "a dead-set copy holds the password")
            #expect(failed.count == 1)
            #expect(failed.first?.data["user_id"] == "u-11")
            #expect(failed.first?.data["reason"]?.stringValue?.contains("language") == true)
            let shapeDead = try await Self.expectDeadWithoutPassword(harness, id: try #require(first.createdID), password: password)
            #expect(shapeDead.deadReason?.contains("email") == true, "reason: \(shapeDead.deadReason ?? "none")")
            let valueDead = try await Self.expectDeadWithoutPassword(harness, id: try #require(second.createdID), password: password)
            #expect(valueDead.deadReason?.contains("language") == true)
            #expect(await harness.control.requests().isEmpty, "a bad payload reached Brevo")
        }
    }
}
