import Foundation
import HoopoeCore
import HoopoeJSON
import Logging
import Providers

/// `sendinblue.register`: creates the Brevo child account of a Kingfisher user whose synchronous registration
/// failed, following docs/providers.md §4.6 — create the child, wait for its creation, add the plan's credits,
/// associate the plan's IP — then emits `sendinblue.registered {user_id, child_id, adopted, auth_key_stored}`
/// (jobs/types/sendinblue.register.md). The child's auth key is a credential: it never goes on the events stream
/// (every reader of it, a dashboard too, would see it); Kingfisher reads it from the progress record's `auth_key`.
///
/// Every step is recorded per user in Redis (``RegistrationStore``) so a retry resumes where the last attempt
/// stopped and no step runs twice. The two calls that are not idempotent are guarded: before create-child is sent
/// again after an unknown outcome, the children are listed and matched by email; before credits are sent again,
/// the child's balance is compared with the one read before the lost request (``CreditBalance``).
///
/// Failures follow docs/providers.md §4.5 through ``ProviderFailurePolicy``: retry (a 429 at Brevo's reset hint),
/// alert and park, or fail for good with a `sendinblue.failed {user_id, reason}` event. A registration that keeps
/// failing is retried for ``RegistrationSettings/retryHours`` (default 48 h), then fails with the same event.
public struct SendinblueRegisterJob: JobHandler {
    public typealias Payload = SendinblueRegisterPayload

    let services: DomainServices

    public init(services: DomainServices) {
        self.services = services
    }

    var settings: RegistrationSettings { services.settings.registration }
    /// Enough attempts to span the retry window (``RegistrationSettings/maxAttempts``).
    public var maxAttempts: Int { settings.maxAttempts }
    public var retryPolicy: RetryPolicy { settings.retryPolicy }
    /// Room for a few Brevo calls at their 30 s limit plus the in-job creation-status reads.
    public var timeout: Duration { .seconds(600) }

    /// The most one attempt waits between creation-status reads (``ensureCreated``), whatever
    /// `REGISTRATION_STATUS_POLLS` and `_POLL_SECONDS` say: under half the timeout, leaving the rest for the calls.
    static let statusWaitBudget: Double = 240

    /// The waits before the second and later of `reads` creation-status reads: `first`, doubling, as many as fit in
    /// ``statusWaitBudget``. Ten reads from 60 s apart slept 8½ hours: the attempt was cancelled as timed out (and
    /// on its last attempt buried without `sendinblue.failed`) instead of stepping aside.
    static func statusWaits(first: Double, reads: Int) -> [Double] {
        var waits: [Double] = []
        var wait = first
        while waits.count < reads - 1, waits.reduce(0, +) + wait <= statusWaitBudget {
            waits.append(wait)
            wait *= 2
        }
        return waits
    }

    /// The child's password never stays in the dead set.
    public var redactedPayloadKeys: Set<String> { ["password"] }

    public func run(_ payload: Payload, context: JobContext) async throws {
        do {
            try await register(payload, context: context)
        } catch let failure as JobFailure {
            let failure = Self.scrub(failure, secret: payload.password)
            try await reportIfFinal(failure, payload: payload, context: context)
            throw failure
        }
    }

    // MARK: - Steps

    private func register(_ payload: Payload, context: JobContext) async throws {
        if let problem = payload.problem { throw JobFailure.permanent("invalid payload: \(problem)") }
        guard let brevo = services.providers.brevo else {
            throw JobFailure.retry("BREVO_API_KEY is not set: sendinblue.register needs the Brevo reseller key; set BREVO_API_KEY and the job continues on its next attempt")
        }
        let store = RegistrationStore(services: services, userID: payload.userID)
        // The attempt is part of the holder: a run recovered after its earlier run's lease lapsed must not share that
        // run's lock (it was re-entrant by job id), or a stalled earlier run waking up would add the credits too.
        let holder = "\(context.id):\(context.attempt)"
        let locked: Bool
        do {
            locked = try await store.lock(holder: holder, for: timeout + .seconds(60))
        } catch let error as RegistrationLockNotReplicated {
            // The policy's backoff gives the replicas time.
            throw JobFailure.retry("user \(payload.userID) not registered yet: \(error); retried")
        }
        guard locked else {
            // An earlier run of this job holds it (it died or stalls): once, when it lapses, not once a minute for the
            // lock's eleven. Another job: it is working on the user now; a minute.
            let wait = LockHolder.retryDelay(try await store.lockHolder(), for: context, otherJob: 60)
            throw JobFailure.retry(
                "another sendinblue.register run is working on user \(payload.userID); trying again when it is done",
                at: Date().timeIntervalSince1970 + wait)
        }
        var log = context.logger
        log[metadataKey: "user_id"] = "\(payload.userID)"
        do {
            try await steps(payload, brevo: brevo, store: store, context: context, log: &log)
        } catch {
            try? await store.unlock(holder: holder)
            throw error
        }
        try? await store.unlock(holder: holder)
    }

    private func steps(_ payload: Payload, brevo: BrevoClient, store: RegistrationStore, context: JobContext, log: inout Logger) async throws {
        var progress = try await store.load()
        if progress.registered {
            log.info("user already registered with Brevo; nothing to do")
            return
        }
        let childID = try await ensureChild(payload, brevo: brevo, store: store, progress: &progress, log: log)
        log[metadataKey: "child_id"] = "\(childID)"
        try await ensureCreated(childID, brevo: brevo, store: store, progress: &progress, context: context, log: log)
        try await ensureCredits(payload.plan, childID: childID, brevo: brevo, store: store, progress: &progress, log: log)
        if let ip = payload.plan.ip, !progress.ipDone {
            _ = try await call(store, log: log) { () async throws(ProviderError) in try await brevo.associateIP(ip, with: .id(childID)) }
            try await store.update(set: [RegistrationProgress.Field.ipDone: "1"])
            progress.ipDone = true
        }
        let now = try await services.clock.now()
        // Event first, then the mark (RegistrationStore.markRegistered says why: a crash between them repeats the
        // event, never loses it).
        try await services.events.emit(SendinblueRegistered(
            userID: payload.userID, childID: childID, adopted: progress.adopted, authKeyStored: progress.authKey != nil), at: now)
        try await store.markRegistered(at: now.timeIntervalSince1970)
        log.info("registered with Brevo")
    }

    /// Step 1: the child's id — stored, found again after an unknown create outcome, or created now (its id and
    /// auth key persisted the moment Brevo answers).
    private func ensureChild(
        _ payload: Payload, brevo: BrevoClient, store: RegistrationStore, progress: inout RegistrationProgress, log: Logger
    ) async throws -> Int64 {
        typealias F = RegistrationProgress.Field
        if let id = progress.childID { return id }
        var searchedTheList = false
        if progress.createSent {
            // An earlier create may have worked although its answer was lost, or Brevo said the email has a child
            // already: look before creating again.
            if let id = try await findChild(payload, brevo: brevo, store: store, progress: &progress, log: log) { return id }
            searchedTheList = true
        }
        guard let child = payload.newChild else {
            throw JobFailure.permanent(
                "the child does not exist yet and the payload has no password (a copy from the dead set has it stripped): enqueue the job again with the password")
        }
        try await store.update(set: [F.createSent: "1"], remove: [F.findOffset])
        let created: BrevoCreatedChild
        do {
            created = try await brevo.createChild(child, adoptingDuplicate: false).value
        } catch let error where error.httpStatus == 400 && error.code == "duplicate_parameter" && !searchedTheList {
            // The email has a child already (an earlier create, or the caller's own attempt before it gave the job to
            // Hoopoe): found by the same search, `create_sent` kept so that a search the hour's budget cuts short goes
            // on where it stopped in the next attempt. Not found, the refusal stands.
            progress.findOffset = 0
            if let id = try await findChild(payload, brevo: brevo, store: store, progress: &progress, log: log) { return id }
            try await store.update(remove: [F.createSent, F.findOffset])
            throw await failure(for: error, store: store, log: log)
        } catch {
            // A clear refusal created nothing: no need to list the children before the next try.
            if !error.outcomeUnknown { try await store.update(remove: [F.createSent]) }
            throw await failure(for: error, store: store, log: log)
        }
        var fields: [String: String] = [:]
        if let authKey = created.authKey { fields[F.authKey] = authKey }
        if created.adopted { fields[F.adopted] = "1" }
        guard let id = created.id else {
            // 201 without an id (Brevo returns one since 2020-06): keep the key; the next attempt finds the id by email.
            try await store.update(set: fields)
            throw JobFailure.retry("Brevo created the child but returned no id; looking it up by email on the next attempt")
        }
        fields[F.childID] = String(id)
        try await store.update(set: fields, remove: [F.createSent])
        progress.childID = id
        progress.authKey = created.authKey ?? progress.authKey
        progress.adopted = created.adopted
        log.info(created.adopted ? "a child with this email already existed; adopting it" : "child created", metadata: ["child_id": "\(id)"])
        return id
    }

    /// The child with the payload's email, searched for in the children list and adopted (its id stored); nil when the
    /// whole list holds none. A long list is searched across attempts: each page read is remembered (`find_offset`),
    /// and the next attempt goes on from there.
    private func findChild(
        _ payload: Payload, brevo: BrevoClient, store: RegistrationStore, progress: inout RegistrationProgress, log: Logger
    ) async throws -> Int64? {
        typealias F = RegistrationProgress.Field
        let found = try await call(store, log: log) { [progress] () async throws(ProviderError) in
            try await brevo.findChild(email: payload.email, from: progress.findOffset) { offset in
                try? await store.update(set: [F.findOffset: String(offset)])
            }
        }.value
        guard let id = found?.id else { return nil }
        try await store.update(set: [F.childID: String(id), F.adopted: "1"], remove: [F.createSent, F.findOffset])
        progress.childID = id
        progress.adopted = true
        log.info("found a child with this email (an earlier create, its answer lost, or one made before); adopting it", metadata: ["child_id": "\(id)"])
        return id
    }

    /// Step 2: waits for Brevo to finish creating the child — a few short reads in this attempt, then a retry
    /// (so a slow creation does not hold a worker slot for minutes).
    private func ensureCreated(
        _ childID: Int64, brevo: BrevoClient, store: RegistrationStore, progress: inout RegistrationProgress, context: JobContext,
        log: Logger
    ) async throws {
        if progress.created { return }
        let waits = Self.statusWaits(first: settings.statusPollInterval, reads: settings.statusPolls)
        var reads = 0
        for read in 0...waits.count {
            if read > 0 { try await Task.sleep(for: .milliseconds(Int64(waits[read - 1] * 1000))) }
            reads += 1
            let created = try await call(store, log: log) { () async throws(ProviderError) in try await brevo.creationStatus(of: .id(childID)) }.value
            if created {
                try await store.update(set: [RegistrationProgress.Field.created: "1"])
                progress.created = true
                return
            }
        }
        let delay = retryPolicy.delay(afterAttempt: context.attempt)
        throw JobFailure.retry(
            "Brevo is still creating child \(childID) after \(reads) status read(s); checking again in \(Int(delay.rounded()))s",
            at: Date().timeIntervalSince1970 + delay)
    }

    /// Step 3: adds the plan's credits exactly once (``CreditBalance`` explains the check after a lost answer).
    private func ensureCredits(
        _ plan: Payload.Plan, childID: Int64, brevo: BrevoClient, store: RegistrationStore, progress: inout RegistrationProgress,
        log: Logger
    ) async throws {
        typealias F = RegistrationProgress.Field
        let sms = plan.smsCredits
        let email = plan.emailCredits
        if progress.creditsDone || (sms == 0 && email == 0) { return }
        let current = CreditBalance(try await call(store, log: log) { () async throws(ProviderError) in try await brevo.child(.id(childID)) }.value)
        if progress.creditsSent, let before = progress.creditsBefore {
            if before.showsAdd(of: sms, email: email, after: current) {
                try await store.update(set: [F.creditsDone: "1"], remove: [F.creditsSent])
                progress.creditsDone = true
                log.info("the credits an earlier attempt sent arrived (its answer was lost); not sending them again")
                return
            }
            log.info("the credits an earlier attempt sent did not arrive; sending them again")
        }
        try await store.update(set: [F.creditsBeforeSMS: String(current.sms), F.creditsBeforeEmail: String(current.email), F.creditsSent: "1"])
        do {
            _ = try await brevo.addCredits(to: .id(childID), sms: sms > 0 ? sms : nil, email: email > 0 ? email : nil)
        } catch {
            if !error.outcomeUnknown { try await store.update(remove: [F.creditsSent]) }
            throw await failure(for: error, store: store, log: log)
        }
        try await store.update(set: [F.creditsDone: "1"], remove: [F.creditsSent])
        progress.creditsDone = true
    }

    // MARK: - Failures

    /// One Brevo call; its failure is the job's verdict (``failure(for:store:log:)``, which logs a stale child id's
    /// data-integrity warning: the calls that name the child are where a stale id shows).
    private func call<T: Sendable>(_ store: RegistrationStore, log: Logger, _ body: () async throws(ProviderError) -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw await failure(for: error, store: store, log: log)
        }
    }

    /// The job's verdict on a Brevo failure (docs/providers.md §4.5), raising `provider.alert` where it asks for one.
    /// A code Brevo's table caps (`409 duplicate_request`: retry once) is counted per user and operation; at the cap
    /// the job fails for good, and the count starts again, so a retry from the dead set gets the same tries.
    private func failure(for error: ProviderError, store: RegistrationStore, log: Logger?) async -> JobFailure {
        if error.kind == .staleIdentifier {
            log?.warning("data integrity: Brevo does not know the stored child (404); the registration cannot continue", metadata: ["error": "\(error)"])
        }
        var timesSeen: Int? = nil
        if case .retry = error.disposition, let cap = error.suggestedMaxAttempts, error.httpStatus != nil {
            let name = RegistrationProgress.Field.failures(provider: error.provider.rawValue, operation: error.operation, code: error.code)
            timesSeen = try? await store.countFailure(name)
            if let seen = timesSeen, seen >= cap { try? await store.forgetFailures(name) }
        }
        return await ProviderFailurePolicy(alertParkDelay: settings.alertPark)
            .failure(for: error, alerts: ProviderAlerts(services: services), timesSeen: timesSeen)
    }

    /// Emits `sendinblue.failed` when this failure ends the job: permanent, or a retry on the last attempt.
    private func reportIfFinal(_ failure: JobFailure, payload: Payload, context: JobContext) async throws {
        let reason: String
        switch failure.disposition {
        case .permanent: reason = failure.message
        case .retry where context.attempt >= context.maxAttempts: reason = "gave up after \(context.attempt) attempts: \(failure.message)"
        default: return
        }
        try await services.events.emit(SendinblueFailed(userID: payload.userID, reason: reason), at: try await services.clock.now())
    }

    /// The failure with every occurrence of the password replaced, should a provider echo it in a message.
    static func scrub(_ failure: JobFailure, secret: String?) -> JobFailure {
        guard let secret, secret.count >= 3, failure.message.contains(secret) else { return failure }
        let message = failure.message.replacingOccurrences(of: secret, with: "[REDACTED]")
        switch failure.disposition {
        case .retry(let at): return .retry(message, at: at)
        case .permanent: return .permanent(message)
        case .discard: return .discard(message)
        }
    }
}
