/// `diag.record`: the diagnostic job. Sleeps `sleep_ms`, then records that it ran:
/// `SADD key member`, `HINCRBY key:count member 1` and `HSET key:attempt member <attempt>` (one round
/// trip). Tests count runs (and see recovered runs' attempt numbers) with it, benchmarks use it, and
/// `health-check --canary` proves the whole path with it.
public struct DiagRecordJob: JobHandler {
    public struct Payload: JobPayload {
        public static let jobType = "diag.record"
        public let key: String
        public let member: String
        public let sleepMs: Int?
        /// Expire the three keys this long after the run (the health check's canary: a run that comes after the check
        /// gave up, and forgot its member, writes it again, and nothing else would remove it).
        public let ttlSeconds: Int?

        enum CodingKeys: String, CodingKey {
            case key, member
            case sleepMs = "sleep_ms"
            case ttlSeconds = "ttl_seconds"
        }

        public init(key: String, member: String, sleepMs: Int? = nil, ttlSeconds: Int? = nil) {
            self.key = key
            self.member = member
            self.sleepMs = sleepMs
            self.ttlSeconds = ttlSeconds
        }
    }

    public init() {}

    public func run(_ payload: Payload, context: JobContext) async throws {
        // At most a day (the longest timeout): a payload's number must not overflow the sleep's conversion.
        if let sleep = payload.sleepMs, sleep > 0 { try await Task.sleep(for: .milliseconds(min(sleep, 86_400_000))) }
        let ttl = payload.ttlSeconds.map { min(max($0, 1), 31_536_000) }
        if let error = try await DiagStore(redis: context.redis).record(key: payload.key, member: payload.member, attempt: context.attempt, ttlSeconds: ttl) {
            throw JobFailure.retry("diag.record: \(error)")
        }
    }
}
