import ArgumentParser
import HoopoeCore
import Redis

/// `hoopoe ping`: proves the Redis connection and reports what an operator needs to know first.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Connect to Redis, print its version and round-trip time; exit 2 when unreachable.",
        discussion: """
            Exit 0 when Redis answers PING (the version reads "?" with a note when the user's ACL lacks INFO), \
            1 when the ACL refuses PING itself (the message names the command), 2 when Redis is unreachable, \
            refuses the login, has no database of the URL's number, or (rediss://) shows a certificate the CA does not \
            vouch for ("TLS certificate verification failed").
            """
    )

    @OptionGroup var options: RedisOptions

    func run() async throws {
        let configuration = try options.redisConfiguration()
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await redis.send("PING")
        } catch let error as RedisError {
            printError(error.operatorLine)
            throw ExitCode(error.isUnreachable ? 2 : 1)
        }
        let elapsed = clock.now - start
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        var version = "?"
        var note = ""
        do {
            let info = try await redis.send("INFO", "server").string ?? ""
            version = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }.map { String($0.dropFirst(14)) } ?? "?"
        } catch let error as RedisError where error.code == .permissionDenied {
            note = " (version unknown: \(error.operatorLine))"
        } catch let error as RedisError {
            printError(error.operatorLine)
            throw ExitCode(error.isUnreachable ? 2 : 1)
        }
        print("Redis \(version) at \(configuration.redactedURL): PONG in \((milliseconds * 100).rounded() / 100) ms" + note)
    }
}
