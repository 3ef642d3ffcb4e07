import Foundation
import HoopoeScheduler
import Synchronization

/// Simulated time shared by several schedulers: hours pass in milliseconds, with no real sleeping.
///
/// A discrete-event clock. Time stands still while any participant is working (talking to Redis); once
/// every participant sleeps, it jumps to the earliest deadline and wakes whoever was due then — all at
/// once when several share that deadline, so they race for the same ticks as real schedulers would. When
/// the earliest deadline is past ``end``, every sleeper gets `CancellationError` and the run stops.
final class VirtualTimeline: Sendable {
    private struct Sleeper {
        let deadline: Date
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var participants = 0
        var sleepers: [Sleeper] = []
    }

    let end: Date
    private let state: Mutex<State>

    init(start: Date, end: Date) {
        self.end = end
        state = Mutex(State(now: start))
    }

    var now: Date { state.withLock { $0.now } }

    /// Registers a participant before it starts: time waits for it.
    func join() {
        state.withLock { $0.participants += 1 }
    }

    /// Unregisters a participant that stopped.
    func leave() {
        let wake = state.withLock { state -> [(Sleeper, Bool)] in
            state.participants -= 1
            return Self.advance(&state, end: end)
        }
        Self.resume(wake)
    }

    func sleep(until deadline: Date) async throws {
        if deadline <= now { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let wake = state.withLock { state -> [(Sleeper, Bool)] in
                state.sleepers.append(Sleeper(deadline: deadline, continuation: continuation))
                return Self.advance(&state, end: end)
            }
            Self.resume(wake)
        }
    }

    /// When everyone sleeps: move to the earliest deadline and pick who wakes (true: normally, false: stop).
    private static func advance(_ state: inout State, end: Date) -> [(Sleeper, Bool)] {
        guard state.participants > 0, state.sleepers.count >= state.participants,
              let earliest = state.sleepers.map(\.deadline).min()
        else { return [] }
        if earliest > end {
            defer { state.sleepers = [] }
            return state.sleepers.map { ($0, false) }
        }
        state.now = max(state.now, earliest)
        let now = state.now
        let due = state.sleepers.filter { $0.deadline <= now }
        state.sleepers.removeAll { $0.deadline <= now }
        return due.map { ($0, true) }
    }

    private static func resume(_ wake: [(Sleeper, Bool)]) {
        for (sleeper, normally) in wake {
            if normally {
                sleeper.continuation.resume()
            } else {
                sleeper.continuation.resume(throwing: CancellationError())
            }
        }
    }
}

/// One scheduler's view of a ``VirtualTimeline``, optionally running `skew` seconds ahead of it.
struct VirtualClock: SchedulerClock {
    let timeline: VirtualTimeline
    let skew: TimeInterval

    func now() -> Date { timeline.now.addingTimeInterval(skew) }

    func sleep(until deadline: Date) async throws {
        try await timeline.sleep(until: deadline.addingTimeInterval(-skew))
    }
}
