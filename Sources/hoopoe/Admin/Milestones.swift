import Synchronization

/// Whether a running count has passed another multiple of `every` since it was last asked: a long command's progress
/// line every so many, however the count grows between two calls.
final class Milestones: Sendable {
    private let every: Int
    private let last = Mutex(0)

    init(every: Int) { self.every = every }

    func passed(_ count: Int) -> Bool {
        last.withLock { last in
            guard count / every > last / every else { return false }
            last = count
            return true
        }
    }
}
