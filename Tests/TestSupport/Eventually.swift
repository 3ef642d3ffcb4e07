/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held. Tests wait
/// for outcomes with it instead of sleeping a guessed time.
public func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
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
