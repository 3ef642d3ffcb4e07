/// How long a test waits for an outcome that should come at once (a job run, a worker's first heartbeat): a bound on
/// liveness, not a measure of speed (speed is `make bench`'s). `make test`'s parallel phase keeps both cores of a
/// 2-core machine busy for ~20 s, with CPU-bound suites holding the cooperative threads for seconds at a time, and
/// at 10 s in-process workers missed it in 1–3 tests of most runs (session 12) while nothing was lost or stuck.
public let outcomeDeadline: Duration = .seconds(30)

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held. Tests wait
/// for outcomes with it instead of sleeping a guessed time.
public func eventually(timeout: Duration = outcomeDeadline, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// Polls `count` until it reaches `target`; gives up only when it has not moved for `stall`. For tests that wait
/// for a lot of work (thousands of jobs): how long that takes depends on the machine's load, which a total timeout
/// would have to guess; a stall is what a lost or stuck job looks like, whatever the load.
public func eventually(reaching target: Int, stall: Duration = .seconds(20), _ count: () async throws -> Int) async throws -> Bool {
    var last = try await count()
    var moved = ContinuousClock.now
    while last < target {
        if ContinuousClock.now - moved > stall { return false }
        try await Task.sleep(for: .milliseconds(20))
        let now = try await count()
        if now != last { last = now; moved = ContinuousClock.now }
    }
    return true
}
