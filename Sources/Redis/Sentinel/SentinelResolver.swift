import Synchronization

/// Asks the sentinels where the primary is: every reachable sentinel, and the one with the newest configuration
/// (the highest `config-epoch`) wins.
///
/// Why not the first answer: after a failover the sentinels learn of it one by one (the leader at once, the others
/// from its hello messages, up to two seconds later). A sentinel that has not learned yet still names the old
/// primary; if that one comes back meanwhile (restarted after a `kill -9`, empty, saying `master` until a sentinel
/// converts it), a client that took the first answer connected to it and wrote there — writes the old primary
/// throws away when it is converted. The config epoch is how the sentinels themselves decide which configuration is
/// newer: each failover gets a higher one, so the highest epoch among the sentinels names the current primary,
/// however many still lag. (Decision 0025, amended.)
///
/// For each sentinel, `SENTINEL MASTER` (its epoch) is asked before `SENTINEL get-master-addr-by-name` (its
/// address): a failover between the two then pairs an older epoch with a newer address, never the reverse. The
/// address comes from `get-master-addr-by-name`, not from `SENTINEL MASTER`, because during a failover the leader
/// already has the new epoch while `SENTINEL MASTER` still shows the old address until the replicas are
/// reconfigured; `get-master-addr-by-name` names the promoted replica from the moment it is promoted.
///
/// A sentinel that does not know the name (`nil`) is skipped like one that is down (during its own start-up it may
/// not have loaded its configuration yet); when most of them answer so and none names a primary, the name is wrong,
/// the error says so, and once that has lasted ``unknownNameGrace`` it is final (a starting worker stops instead of
/// waiting for good). One that refuses `SENTINEL MASTER` (an ACL allowing only
/// `get-master-addr-by-name`) still counts, as the oldest configuration: it wins only when no sentinel gave an epoch.
/// Ties go to the sentinel asked first, starting with the one that won last time.
///
/// Runs on the thread of the ``RedisConnection`` about to connect (its `address`), so it blocks: each sentinel gets
/// at most ``timeout`` to connect and answer.
final class SentinelResolver: Sendable {
    let settings: RedisSentinelSettings
    /// Per sentinel, to connect and to answer: short, so one dead sentinel does not hold up a reconnect for long.
    let timeout: Duration
    private let lastAnswered = Atomic<Int>(0)
    /// Since when most sentinels have answered that they do not know the name (nil while one names a primary).
    private let unknownNameSince = Mutex<ContinuousClock.Instant?>(nil)
    /// How long most sentinels must not know the name before the error is final: sentinels configured at run time (an
    /// init script's `SENTINEL MONITOR`, some Kubernetes charts) answer so for their first seconds, and a worker started
    /// with them must not stop for it.
    static let unknownNameGrace = Duration.seconds(30)

    init(settings: RedisSentinelSettings, timeout: Duration) {
        self.settings = settings
        self.timeout = timeout
    }

    /// One sentinel's answer, or the one chosen.
    struct Answer: Equatable, Sendable {
        let primary: RedisConfiguration.Endpoint
        /// Its `config-epoch` for the primary, nil when it would not say.
        let epoch: Int?
        /// Every configured sentinel answered, all with this primary and epoch (for the chosen answer only): what
        /// lets the follower accept an older epoch than it has seen, as sentinels rebuilt from scratch have.
        var unanimous = false
        /// What the health check reports of the sentinels (for the chosen answer only): each that did not answer and
        /// why, each that named another primary, and a failover a sentinel says is under way.
        var problems: [String] = []
        /// How many sentinels named a primary (for the chosen answer only).
        var answered = 0
        /// `SENTINEL CKQUORUM`'s refusals when no sentinel that answered could reach a quorum and a majority to fail
        /// the primary over (for the chosen answer only); nil when one could, or none would say.
        var noQuorum: String?
    }

    /// The primary the sentinels name now.
    /// - Throws: ``RedisError`` `connectionFailed` naming every sentinel tried and why each failed;
    ///   `authenticationFailed` when every sentinel refused the sentinel credentials (retrying cannot help).
    /// - Parameter checkingQuorum: also ask each sentinel `SENTINEL CKQUORUM` (``Answer/noQuorum``): for the health
    ///   check only, not on a connection's every reconnect.
    func primary(checkingQuorum: Bool = false) throws(RedisError) -> Answer {
        let count = settings.sentinels.count
        let first = lastAnswered.load(ordering: .relaxed)
        var answers: [(index: Int, answer: Answer)] = []
        var reasons: [String] = []
        var refusedCredentials = 0
        var untrusted = 0
        var unknownName = 0
        var failingOver: [String] = []
        var quorumRefusals: [String] = []
        var quorumReachable = false
        for offset in 0..<count {
            let index = (first + offset) % count
            let sentinel = settings.sentinels[index]
            do {
                let link = try SentinelLink(sentinel, settings: settings, timeout: timeout)
                let master = try link.command(RedisCommand("SENTINEL", "MASTER", settings.masterName))
                let epoch = Self.epoch(master)
                if Self.field("flags", in: master)?.contains("failover_in_progress") == true { failingOver.append(sentinel.description) }
                // Whether the sentinels, all of them and not only the URL's, could fail the primary over now.
                if checkingQuorum {
                    switch try link.command(RedisCommand("SENTINEL", "CKQUORUM", settings.masterName)) {
                    case .status: quorumReachable = true
                    case .error(let reason) where reason.hasPrefix("NOQUORUM"): quorumRefusals.append("\(sentinel): \(reason)")
                    default: break  // refused by the sentinel's ACL, or not known: not a verdict
                    }
                }
                let reply = try link.command(RedisCommand("SENTINEL", "get-master-addr-by-name", settings.masterName))
                guard let endpoint = Self.endpoint(reply) else {
                    if reply.errorMessage == nil { unknownName += 1 }
                    reasons.append("\(sentinel): \(reply.errorMessage ?? "does not know a primary named '\(settings.masterName)'")")
                    continue
                }
                answers.append((index, Answer(primary: endpoint, epoch: epoch)))
            } catch {
                if error.code == .authenticationFailed { refusedCredentials += 1 }
                if error.isFinal { untrusted += 1 }
                reasons.append("\(sentinel): \(error.message)")
            }
        }
        guard let newest = Self.newest(answers.map(\.answer)) else {
            // Most of the sentinels answered, and none knows the name: `master=` in the URL is wrong (a typo, another
            // deployment's name), which waiting cannot mend. A starting worker waited for good, saying only why in its
            // log; it now stops (isFinal) once that has lasted ``unknownNameGrace``. One sentinel in its own start-up
            // may not know the name yet: a majority must.
            let wrongName = unknownName * 2 > count
            let since = unknownNameSince.withLock { since in
                if !wrongName { since = nil } else if since == nil { since = .now }
                return since
            }
            let lasting = since.map { ContinuousClock.now - $0 >= Self.unknownNameGrace } ?? false
            let hint = wrongName ? " (is master=\(settings.masterName) in REDIS_URL the name the sentinels monitor? SENTINEL MASTERS lists them)" : ""
            throw RedisError(
                refusedCredentials == count ? .authenticationFailed : .connectionFailed, endpoint: settings.sentinels.map(\.description).joined(separator: ","),
                command: "SENTINEL get-master-addr-by-name",
                message: "no sentinel named the primary '\(settings.masterName)': \(reasons.joined(separator: "; "))\(hint)",
                isFinal: untrusted == count || lasting)
        }
        unknownNameSince.withLock { $0 = nil }
        lastAnswered.store(answers[newest].index, ordering: .relaxed)
        var chosen = answers[newest].answer
        let unanimous = answers.count == count && answers.allSatisfy { $0.answer == chosen }
        chosen.unanimous = unanimous
        chosen.answered = answers.count
        chosen.noQuorum = quorumReachable || quorumRefusals.isEmpty ? nil : quorumRefusals.joined(separator: "; ")
        chosen.problems = reasons
        for (index, answer) in answers where answer.primary != chosen.primary {
            chosen.problems.append("\(settings.sentinels[index]) names \(answer.primary) (epoch \(answer.epoch.map(String.init) ?? "?")), not \(chosen.primary)")
        }
        if !failingOver.isEmpty { chosen.problems.append("a failover is under way (\(failingOver.joined(separator: ", ")))") }
        return chosen
    }

    /// The position of the answer with the highest epoch (an answer without one ranks below every epoch); the
    /// first of equals. Nil when there is none.
    static func newest(_ answers: [Answer]) -> Int? {
        var best: Int?
        for (position, answer) in answers.enumerated() {
            guard let current = best else { best = position; continue }
            if (answer.epoch ?? -1) > (answers[current].epoch ?? -1) { best = position }
        }
        return best
    }

    /// The address in a `get-master-addr-by-name` reply (`[host, port]`), nil for `nil` or an error.
    static func endpoint(_ reply: RedisReply) -> RedisConfiguration.Endpoint? {
        guard let parts = reply.array, parts.count == 2, let host = parts[0].string, let port = parts[1].string.flatMap(Int.init) else { return nil }
        return .tcp(host: host, port: port)
    }

    /// The `config-epoch` in a `SENTINEL MASTER` reply (a flat `[name, value, ...]` list), nil for an error or when
    /// it is missing.
    static func epoch(_ reply: RedisReply) -> Int? {
        field("config-epoch", in: reply).flatMap { Int($0) }
    }

    /// A field of a `SENTINEL MASTER` reply (pairs of name and value), nil when absent or refused.
    static func field(_ name: String, in reply: RedisReply) -> String? {
        guard let items = reply.array else { return nil }
        for index in stride(from: 0, to: items.count - 1, by: 2) where items[index].string == name {
            return items[index + 1].string ?? items[index + 1].int.map(String.init)
        }
        return nil
    }
}
