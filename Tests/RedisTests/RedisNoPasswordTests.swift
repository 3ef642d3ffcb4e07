import Foundation
import Redis
import TestSupport
import Testing

/// A server that needs a password, asked by a URL without one, answers the connect's first command `NOAUTH`: a refused
/// login, final, as a wrong password is. It was a `PING` answered with an error, a `SELECT` "refused" as a database
/// that does not exist, and for a dedicated connection a `CLIENT ID` passed over, its commands then each failing.
@Suite struct RedisNoPasswordTests {
    static let expected = "Redis requires a password; the URL gives none"

    /// Whether `error` is the refused login this suite expects, never naming the server's password.
    static func isRefusedLogin(_ error: any Error) -> Bool {
        guard let error = error as? RedisError else { return false }
        return error.code == .authenticationFailed && error.message == expected && !"\(error)".contains("the-secret")
    }

    @Test(arguments: [0, 1]) func aURLWithoutAPasswordIsARefusedLogin(database: Int) async throws {
        let server = try RedisServer(arguments: ["--requirepass", "the-secret"])
        let redis = try RedisClient(url: "redis://127.0.0.1:\(server.port)/\(database)")
        defer { redis.close() }
        let started = ContinuousClock.now
        await #expect(performing: { try await redis.send("PING") }, throws: { Self.isRefusedLogin($0) })
        // Final: not tried again through the reconnect window.
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func aDedicatedConnectionLearningItsIDIsRefusedToo() async throws {
        let server = try RedisServer(arguments: ["--requirepass", "the-secret"])
        let redis = try RedisClient(url: "redis://127.0.0.1:\(server.port)/0")
        defer { redis.close() }
        let connection = redis.makeDedicatedConnection(learnsClientID: true)
        defer { connection.close() }
        await #expect(performing: { try await connection.send([RedisCommand("PING")]) }, throws: { Self.isRefusedLogin($0) })
    }
}
