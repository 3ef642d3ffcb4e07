import Foundation

extension JobQueue {
    /// Pauses `queue` for every worker: within about a second none fetches from it, its ready jobs stay ready, and
    /// delayed jobs and retries still become ready. Jobs already running finish. Idempotent.
    /// - Returns: false when it was paused already.
    public func pause(queue: String) async throws -> Bool {
        try await store.pause(queue: queue)
    }

    /// Resumes `queue`: workers serving it fetch from it again within about a second. Idempotent.
    /// - Returns: false when it was not paused.
    public func resume(queue: String) async throws -> Bool {
        try await store.resume(queue: queue)
    }

    /// The paused queues, each with when it was paused.
    public func pausedQueues() async throws -> [String: Date] {
        try await store.pausedQueues().mapValues { Date(timeIntervalSince1970: $0) }
    }
}
