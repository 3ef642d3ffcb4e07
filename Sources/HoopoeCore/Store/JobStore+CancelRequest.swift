import Redis

/// Cancelling a job a worker holds but has not started (fetched into its buffer): the canceller asks, the holder
/// answers (decision 0089). The requests and answers live in one hash of the queue (``QueueKeys/cancels``), in the
/// queue's slot, so each step below is one script or transaction beside the stream it is about:
///
/// 1. the canceller writes `requested` (with its deadline) for the entry, only while the entry is pending
///    (``requestCancel(queue:entryID:wait:)``);
/// 2. every worker reads its queues' requests with its pause check (``cancelRequests(queues:)``, which drops requests a
///    minute past their deadline: their cancellers died waiting); the one holding the entry settles it as cancelled if
///    it was still waiting in its buffer, or answers `running` if it runs
///    (``answerCancel(queue:entryID:consumer:job:)``), either only while the request stands;
/// 3. the canceller polls for the answer (``cancelAnswer(queue:entryID:)``, which also drops a request whose entry
///    settled meanwhile), then removes the field, or at its deadline withdraws the request, in one transaction
///    (``closeCancelRequest(queue:entryID:)``): an answer that came first is read, one that did not can no longer come.
extension JobStore {
    static let cancelRequestScript = cancelScript(name: "cancel-request", embedded: PackageResources.cancel_request_lua)
    static let cancelHeldScript = cancelScript(name: "cancel-held", embedded: PackageResources.cancel_held_lua)
    static let cancelPollScript = cancelScript(name: "cancel-poll", embedded: PackageResources.cancel_poll_lua)
    static let cancelRequestsScript = cancelScript(name: "cancel-requests", embedded: PackageResources.cancel_requests_lua)

    /// How long past its deadline a request is left before a worker's read (``cancelRequests(queues:)``) removes it: a
    /// canceller withdraws its own at the deadline, so one still there a minute later belongs to a canceller that died.
    static let staleCancelRequestGrace: Duration = .seconds(60)

    /// What a request holds until its holder answers: `requested <deadline, Redis ms>`, this word first.
    static let cancelRequested = "requested"

    /// What the holder of a requested entry does with it.
    enum HeldCancel {
        /// It has started (or is being settled): only say so.
        case running
        /// It waited in the holder's buffer, withdrawn from it: settle it as cancelled, with its history record (nil
        /// when the worker keeps no history), its unique key's owner `id`, and its `notify` answer.
        case cancel(id: String, uniqueKey: String?, record: [UInt8]?, answer: String?)
    }

    /// Asks the holder of `entryID` to cancel it: one script, writing the request only while the entry is pending.
    /// The request stands for `wait` and a second more by Redis's clock (the canceller closes it at `wait`, before a
    /// holder could drop it as expired): a holder ignores it after, so a canceller that died waiting leaves no request
    /// that would cancel the job later with nobody told.
    /// - Returns: false when it is no longer pending (settled, or handed back as a new entry): nothing was written.
    func requestCancel(queue: String, entryID: String, wait: Duration) async throws -> Bool {
        let k = keys(queue)
        // KEYS[1] stream · KEYS[2] cancels · ARGV[1] group · ARGV[2] entry id · ARGV[3] the hash's TTL, s
        // ARGV[4] how long the request stands, ms
        // Returns 1 requested · 0 not pending
        let n = try await redis.run(
            Self.cancelRequestScript, keys: [k.stream, k.cancels],
            arguments: [QueueKeys.group, entryID, String(Self.cancelsTTL(wait: wait)), String(Int(wait.seconds * 1000) + 1000)])
        return n.int == 1
    }

    /// The cancels hash's lifetime for a request that stands `wait`: ``QueueKeys/cancelsTTLSeconds`` past it, so neither
    /// the request nor its holder's answer expires while the canceller still waits (a `--wait` of a minute or more found
    /// the request gone and asked again, then reported no answer). Never shortened by a later request's.
    static func cancelsTTL(wait: Duration) -> Int {
        Int(wait.seconds.rounded(.up)) + QueueKeys.cancelsTTLSeconds
    }

    /// The request's state: `requested` until answered, then `cancelled` or `running`; `gone` (and removed) when it is
    /// unanswered and the entry is no longer pending, so no answer can come; nil when there is none. One script.
    func cancelAnswer(queue: String, entryID: String) async throws -> String? {
        let k = keys(queue)
        // KEYS[1] cancels · KEYS[2] stream · ARGV[1] entry id · ARGV[2] group
        return try await redis.run(Self.cancelPollScript, keys: [k.cancels, k.stream], arguments: [entryID, QueueKeys.group]).string
    }

    /// Removes the request and returns what it held (`requested`: withdrawn before an answer, which now cannot come).
    /// One transaction (`HGET`, `HDEL`).
    @discardableResult
    func closeCancelRequest(queue: String, entryID: String) async throws -> String? {
        let k = keys(queue)
        let replies = try await redis.transaction([RedisCommand("HGET", k.cancels, entryID), RedisCommand("HDEL", k.cancels, entryID)])
        return replies.first?.string
    }

    /// The entries of `queues` whose cancel is requested and not yet answered: one script a queue, in one pipeline
    /// (most rounds find every hash missing: one `HGETALL` each). Each also removes its queue's requests more than
    /// ``staleCancelRequestGrace`` past their deadline: no holder acts on them, and before they stayed for good while
    /// other cancels kept coming (each raises the hash's TTL, so it never lapsed).
    func cancelRequests(queues: [String]) async throws -> [(queue: String, entryID: String)] {
        // KEYS[1] cancels · ARGV[1] how long past its deadline a request is removed, ms
        // Returns the entry ids of the requests left
        let grace = String(Int(Self.staleCancelRequestGrace.seconds * 1000))
        let replies = try await redis.pipeline(Self.cancelRequestsScript, calls: queues.map { (keys: [keys($0).cancels], arguments: [grace]) })
        var requests: [(queue: String, entryID: String)] = []
        for (queue, reply) in zip(queues, replies) {
            for entryID in (reply.array ?? []).compactMap(\.string) { requests.append((queue, entryID)) }
        }
        return requests
    }

    /// The holder's answer to a request for `entryID` (one script): `running`, or the entry settled as cancelled;
    /// only while the entry is pending to `consumer` (a worker whose lease lapsed and whose job another worker claimed
    /// answers nothing).
    /// - Returns: false when the request no longer stands (withdrawn by its canceller, or past its deadline) or the
    ///   entry is not `consumer`'s: nothing was done, and a job withdrawn from the buffer for it must go back.
    func answerCancel(queue: String, entryID: String, consumer: String, job: HeldCancel) async throws -> Bool {
        let k = keys(queue)
        // KEYS[1] cancels · KEYS[2] stream · KEYS[3] unique:<key> · KEYS[4] history (legacy sorted set) · KEYS[5] history:jobs
        // KEYS[6] history:ids · KEYS[7] answer:<id> · ARGV[1] `cancel` or `running` · ARGV[2] entry id · ARGV[3] group
        // ARGV[4] job id · ARGV[5] history record ('' for none) · ARGV[6] the answer ('' for none) · ARGV[7] its TTL, s
        // ARGV[8] the consumer that holds it
        // Returns 1 answered · 0 no standing request, or not this consumer's
        let arguments: [String]
        let id: String
        let unique: String
        switch job {
        case .running:
            (id, unique) = ("-", "-")
            arguments = ["running", entryID, QueueKeys.group, "", "", "", "", consumer]
        case .cancel(let jobID, let uniqueKey, let record, let answer):
            (id, unique) = (jobID, uniqueKey ?? "-")
            arguments = [
                "cancel", entryID, QueueKeys.group, jobID, record.map { String(decoding: $0, as: UTF8.self) } ?? "", answer ?? "",
                String(QueueKeys.answerTTLSeconds), consumer,
            ]
        }
        // Durable as an acknowledgement is: a failover must not bring back a job its canceller was told is cancelled.
        let n = try await redis.run(
            Self.cancelHeldScript, keys: [k.cancels, k.stream, k.unique(unique), k.legacyHistory, k.historyJobs, k.historyIDs, k.answer(id)],
            arguments: arguments, durable: true)
        return n.int == 1
    }

    /// The consumer `entryID` is pending to, nil when it is not pending. One `XPENDING`.
    func pendingConsumer(queue: String, entryID: String) async throws -> String? {
        let reply = try await redis.send("XPENDING", keys(queue).stream, QueueKeys.group, entryID, entryID, "1")
        return reply.array?.first?.array?[1].string
    }
}
