import ArgumentParser
import Redis

/// `hoopoe ping`: proves the Redis connection and reports what an operator needs to know first.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Connect to Redis, print its version and round-trip time; exit 2 when unreachable."
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: options.resolvedRedisURL)
        } catch {
            throw ValidationError("REDIS_URL: \(error)")
        }
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        do {
            let clock = ContinuousClock()
            let start = clock.now
            _ = try await redis.send("PING")
            let elapsed = clock.now - start
            let info = try await redis.send("INFO", "server").string ?? ""
            let version = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }?.dropFirst(14) ?? "?"
            let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
            print("Redis \(version) at \(configuration.redactedURL): PONG in \((milliseconds * 100).rounded() / 100) ms")
        } catch {
            print("Redis unreachable: \(error)")
            throw ExitCode(2)
        }
    }
}
