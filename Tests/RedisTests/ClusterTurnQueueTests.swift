import Synchronization
import TestSupport
import Testing

@testable import Redis

/// The queue in front of each cluster node's connection (decision 0045): requests made in one scheduling turn leave
/// in one write, and each caller still gets exactly its own replies, in order, or the write's failure. Against the
/// shared test Redis (the queue does not care that it is not a cluster node; the cluster's use is in ClusterTests).
@Suite struct ClusterTurnQueueTests {
    private func queue() throws -> ClusterTurnQueue {
        ClusterTurnQueue(connection: RedisConnection(configuration: try RedisConfiguration(url: TestRedis.url())))
    }

    @Test("requests made in one turn leave together, each caller getting its own replies in order")
    func oneWriteATurn() async throws {
        let queue = try queue()
        defer { queue.connection.close() }
        let prefix = TestRedis.uniquePrefix()
        _ = try await queue.send([RedisCommand("SET", "\(prefix):text", "not a number")])
        let before = queue.writes
        let replies = try await TurnGate.concurrently(40) { index -> [RedisReply] in
            switch index {
            case 0:  // an error in place, not a failure of the others
                try await queue.send([RedisCommand("INCR", "\(prefix):text")])
            case 1:  // a transaction stays whole
                try await queue.send([RedisCommand("MULTI"), RedisCommand("INCRBY", "\(prefix):multi", "5"), RedisCommand("EXEC")])
            default:
                try await queue.send([RedisCommand("INCRBY", "\(prefix):\(index)", String(index)), RedisCommand("GET", "\(prefix):\(index)")])
            }
        }
        // One, or two when a pool thread ran the flush before the last callers had their turn (the pool keeps no strict
        // order across its threads); without the queue each request is a write of its own (40).
        #expect(queue.writes - before <= 2, "\(queue.writes - before) writes for 40 requests made in one turn")
        #expect(replies[0].count == 1 && replies[0][0].errorMessage?.hasPrefix("ERR") == true)
        #expect(replies[1] == [.status("OK"), .status("QUEUED"), .array([.integer(5)])])
        for index in 2..<40 { #expect(replies[index] == [.integer(Int64(index)), .bulk(Array(String(index).utf8))], "caller \(index)") }
        _ = try await queue.send([RedisCommand("DEL", ["\(prefix):text", "\(prefix):multi"] + (2..<40).map { "\(prefix):\($0)" })])
    }

    @Test("a request made after the write left goes in the next one")
    func laterRequestsGoNext() async throws {
        let queue = try queue()
        defer { queue.connection.close() }
        let before = queue.writes
        #expect(try await queue.send([RedisCommand("PING")]) == [.status("PONG")])
        #expect(try await queue.send([RedisCommand("ECHO", "again")]) == [.bulk(Array("again".utf8))])
        #expect(queue.writes - before == 2)
    }

    @Test("a transport failure fails every request of the write")
    func failureFailsAll() async throws {
        let port = try RedisServer.freePort()  // nothing listens there
        var configuration = RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: port))
        configuration.reconnectWindow = .milliseconds(100)
        let queue = ClusterTurnQueue(connection: RedisConnection(configuration: configuration))
        defer { queue.connection.close() }
        let outcomes = try await TurnGate.concurrently(5) { _ -> RedisError.Code? in
            do {
                _ = try await queue.send([RedisCommand("PING")])
                return nil
            } catch {
                return (error as? RedisError)?.code
            }
        }
        #expect(outcomes.allSatisfy { $0 == .connectionFailed }, "\(outcomes)")
    }
}

/// Runs `count` tasks that all begin their work only once every one of them is queued, so that what they do
/// happens in one scheduling turn as a worker's runners resumed together do (not spread over the time it takes to
/// create them).
enum TurnGate {
    private final class Gate: Sendable {
        let open = Atomic<Bool>(false)
    }

    static func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        let gate = Gate()
        return try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for index in 0..<count {
                group.addTask {
                    while !gate.open.load(ordering: .acquiring) {}  // at most one waiter a pool thread; the rest are queued
                    return (index, try await body(index))
                }
            }
            gate.open.store(true, ordering: .releasing)
            var results = [T?](repeating: nil, count: count)
            for try await (index, result) in group { results[index] = result }
            return results.map { $0! }
        }
    }
}
