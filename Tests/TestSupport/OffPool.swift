import Foundation

/// Runs blocking harness work (process spawns, sleeps while a cluster agrees, a server's restart) on a thread of its
/// own, not on the cooperative pool: a test's worker and enqueuer share that pool, and in `make test`'s parallel phase
/// a task may wait seconds for one of its threads.
public func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// Like ``offPool(_:)``, but started at once and awaited later: the test goes on meanwhile (it sends a command while
/// the thread restarts the server it needs) and ``value()`` waits for the result.
///
/// - Note: `@unchecked Sendable` is sound: `result` is written once by the thread before `done` is signalled, and read
///   only after waiting for that signal.
public final class OwnThread<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    public init(_ work: @escaping @Sendable () throws -> T) {
        Thread { [self] in
            result = Result { try work() }
            done.signal()
        }.start()
    }

    /// The work's result, once it has finished (blocks until then).
    public func value() throws -> T {
        done.wait()
        return try result!.get()
    }
}
