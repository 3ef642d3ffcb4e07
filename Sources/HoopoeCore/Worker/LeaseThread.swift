import Foundation
import Redis

/// One plain OS thread that lease renewal (``LeaseRenewal``) runs on: a Swift task executor with its own clock.
///
/// Why a thread of its own: Swift's cooperative pool has one thread per core, and a handler that blocks its thread
/// (a synchronous library call, a long computation, `usleep`) holds one of them; with as many such handlers as cores,
/// every other task of the process waits — renewal too. A renewal that waits out the lease lets another worker take
/// jobs that are still running here, and they run twice. On this thread renewal goes on whatever the handlers do: the
/// Redis connections have their own threads as well (decision 0001), so a renewal needs no cooperative thread from
/// its timer to its reply (decision 0032).
///
/// Its sleep is this thread's own timer, not `Task.sleep`, whose wake-up is not promised to avoid the global pool, and
/// runs on the monotonic clock (``MonotonicCondition``): a wall clock stepped back delayed every renewal by the step.
///
/// - Note: `@unchecked Sendable` is sound because `jobs`, `timers`, `nextTimer`, `stopped` and `cancelledBeforeArmed` are only touched while
///   holding `condition`.
final class LeaseThread: TaskExecutor, @unchecked Sendable {
    private struct Timer {
        let id: Int
        let deadline: ContinuousClock.Instant
        let fire: @Sendable () -> Void
    }

    private let condition = MonotonicCondition()
    private var jobs: [UnownedJob] = []
    private var timers: [Timer] = []
    private var nextTimer = 0
    private var stopped = false
    /// Sleeps cancelled before their timer was armed: their timer is due at once when it is.
    private var cancelledBeforeArmed: Set<Int> = []

    /// Starts the thread.
    /// - Parameter name: the thread's name, seen in debuggers and `top -H` (its first 15 bytes: ``ThreadName``).
    init(name: String) {
        let thread = Thread { [self] in
            ThreadName.set(name)
            self.runLoop()
        }
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Waits `duration` on this thread's clock; returns early when the task is cancelled.
    func sleep(for duration: Duration) async {
        let id = condition.withLock {
            nextTimer += 1
            return nextTimer
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                condition.withLock {
                    timers.append(Timer(id: id, deadline: .now + duration) { continuation.resume() })
                    condition.signal()
                }
            }
        } onCancel: {
            fire(timer: id)
        }
    }

    /// Ends the thread once the work queued is done. Call it when no task prefers this executor any more.
    func stop() {
        condition.withLock {
            stopped = true
            condition.signal()
        }
    }

    /// Fires timer `id` now, if it has not fired yet (a cancelled sleep). A timer not yet armed (cancelled before its
    /// continuation existed) is armed already due, so the sleep returns at once.
    private func fire(timer id: Int) {
        let due: Timer? = condition.withLock {
            guard let index = timers.firstIndex(where: { $0.id == id }) else {
                cancelledBeforeArmed.insert(id)
                return nil
            }
            return timers.remove(at: index)
        }
        due?.fire()
    }

    private func runLoop() {
        condition.lock()
        while true {
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                condition.unlock()
                job.runSynchronously(on: asUnownedTaskExecutor())
                condition.lock()
                continue
            }
            let now = ContinuousClock.now
            if let index = timers.firstIndex(where: { $0.deadline <= now || cancelledBeforeArmed.contains($0.id) }) {
                let timer = timers.remove(at: index)
                cancelledBeforeArmed.remove(timer.id)
                condition.unlock()
                timer.fire()
                condition.lock()
                continue
            }
            if stopped { break }
            if let next = timers.map(\.deadline).min() {
                let seconds = Double((next - now).components.seconds) + Double((next - now).components.attoseconds) / 1e18
                condition.wait(seconds: max(0, seconds))
            } else {
                condition.wait()
            }
        }
        condition.unlock()
    }
}
