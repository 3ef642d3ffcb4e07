/// `diag.incr`: `INCR key`, nothing else. The benchmark's no-op job (the same work every peer of the
/// peer benchmark behind `make bench` does per job, docs/benchmarks.md), and a cheap liveness probe.
public struct DiagIncrJob: JobHandler {
    public struct Payload: JobPayload {
        public static let jobType = "diag.incr"
        public let key: String
        public init(key: String) { self.key = key }
    }

    public init() {}

    public func run(_ payload: Payload, context: JobContext) async throws {
        try await DiagStore(redis: context.redis).increment(payload.key)
    }
}
