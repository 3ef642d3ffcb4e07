import Synchronization

/// Opens once; waiters before and after pass. Not a cancellation point. Shared by the engine's and the dashboard's
/// tests (a job held running while a test looks).
public final class TestGate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    public func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// How many runs wait at the gate now: a test that must stop a worker while its job runs waits for this, since a job
    /// fetched is not yet a job started.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    public func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }
}
