import Foundation

/// The backstop of the acknowledger's linger (``Acknowledger``, decision 0037): one plain thread that calls back when
/// an armed deadline passed.
///
/// Why not `Task.sleep`: on Linux each sleep is a dispatch timer whose firing wakes threads; one per linger measured
/// +0.17 system calls, +0.1 context switches and +1.5 µs of worker CPU a job on the peers' workload. Under load a
/// linger is ended by finishing jobs long before this deadline, so what matters is that arming it is cheap: here it
/// is a store under a lock (a wake-up only when the thread waits with nothing armed), and since deadlines only move
/// later, the thread wakes at most once per deadline it waited for and then waits for the newest. The thread starts
/// with the first deadline and ends after a second with none, so an idle worker (or a test's many) keeps none.
///
/// - Note: `@unchecked Sendable` is sound because `deadline`, `hasThread`, `parkedIdle` and `onFire` are only touched
///   while holding `condition`.
final class LingerClock: @unchecked Sendable {
    private let condition = NSCondition()
    private var deadline: ContinuousClock.Instant?
    private var hasThread = false
    /// The thread waits with nothing armed (so a new deadline must wake it).
    private var parkedIdle = false
    private var onFire: @Sendable () -> Void = {}
    private let clock = ContinuousClock()

    /// Called on the clock's thread when an armed deadline passed; it checks what is still due. Set before the first
    /// ``arm(at:)`` (it is the acknowledger's own method, so the acknowledger is made first).
    var fire: @Sendable () -> Void {
        get { condition.withLock { onFire } }
        set { condition.withLock { onFire = newValue } }
    }

    /// Calls ``fire`` at `deadline` or a little later. One deadline at a time: a new one replaces the armed one.
    func arm(at deadline: ContinuousClock.Instant) {
        condition.lock()
        defer { condition.unlock() }
        // Deadlines come later and later (one linger at a time, each as long); an earlier one wakes the thread anyway.
        let earlier = self.deadline.map { deadline < $0 } ?? false
        self.deadline = deadline
        if !hasThread {
            hasThread = true
            let thread = Thread { [self] in run() }
            thread.name = "hoopoe-ack-linger"
            thread.start()
        } else if parkedIdle || earlier {
            condition.signal()
        }
    }

    private func run() {
        condition.lock()
        while true {
            if let due = deadline {
                let left = due - clock.now
                if left <= .zero {
                    deadline = nil
                    let fire = onFire
                    condition.unlock()
                    fire()
                    condition.lock()
                    continue
                }
                _ = condition.wait(until: Date(timeIntervalSinceNow: left.seconds))
            } else {
                parkedIdle = true
                let woken = condition.wait(until: Date(timeIntervalSinceNow: 1))
                parkedIdle = false
                if !woken && deadline == nil {
                    hasThread = false
                    condition.unlock()
                    return
                }
            }
        }
    }
}
