import Foundation
@testable import Redis
import Testing

/// The connection's lock (decision 0058): it spins before it sleeps, and must still exclude: threads that take it in
/// turns never lose an update, and a thread that finds it held waits until it is let go.
@Suite struct AdaptiveLockTests {
    /// A counter each thread reads, pauses on, and writes back: without exclusion, updates made in the pause are lost.
    final class Counter: @unchecked Sendable {
        var value = 0
    }

    @Test func threadsTakingTurnsLoseNoUpdate() {
        let lock = AdaptiveLock()
        let counter = Counter()
        let threads = 4
        let rounds = 20_000
        let done = DispatchGroup()
        for _ in 0..<threads {
            done.enter()
            Thread {
                for _ in 0..<rounds {
                    lock.lock()
                    let seen = counter.value
                    for _ in 0..<20 { _ = ContinuousClock.now }  // a pause inside, so an unguarded write would lose
                    counter.value = seen + 1
                    lock.unlock()
                }
                done.leave()
            }.start()
        }
        #expect(done.wait(timeout: .now() + 120) == .success)
        lock.lock()
        #expect(counter.value == threads * rounds)
        lock.unlock()
    }

    @Test func aThreadFindingItHeldWaitsUntilItIsLetGo() {
        let lock = AdaptiveLock()
        let counter = Counter()
        let taken = DispatchSemaphore(value: 0)
        lock.lock()
        Thread {
            lock.lock()
            counter.value += 1
            lock.unlock()
            taken.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.2)  // well past the spin: the other thread sleeps on the lock now
        #expect(counter.value == 0)
        lock.unlock()
        #expect(taken.wait(timeout: .now() + 10) == .success)
        lock.lock()
        #expect(counter.value == 1)
        lock.unlock()
    }
}
