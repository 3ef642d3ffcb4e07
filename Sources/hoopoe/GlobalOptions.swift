import ArgumentParser
import Redis

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("redis-url"),
        help: ArgumentHelp(
            "Redis URL: redis://[user:password@]host:port/db or unix:///path.sock?db=N. Default: $REDIS_URL, else redis://127.0.0.1:6379/0.",
            valueName: "url"))
    var redisURL: String?

    @Option(name: .customLong("namespace"), help: ArgumentHelp("Key prefix in Redis (default: $HOOPOE_NAMESPACE, else hoopoe).", valueName: "prefix"))
    var namespaceOption: String?

    /// The key prefix: the flag, then `HOOPOE_NAMESPACE`, then `hoopoe`.
    var namespace: String { namespaceOption ?? Environment.value("HOOPOE_NAMESPACE") ?? "hoopoe" }

    /// A client for the resolved URL.
    /// - Throws: ``unusableRedisURL(_:)``'s error when the URL cannot be used.
    func makeRedisClient() throws -> RedisClient {
        do {
            return try RedisClient(url: resolvedRedisURL)
        } catch {
            throw unusableRedisURL(error)
        }
    }

    /// The error for a Redis URL that cannot be used, naming where it came from: `--redis-url` is a usage error
    /// (exit 64, with the usage text); `REDIS_URL` is a bad setting, which stops start-up with exit 78 (EX_CONFIG)
    /// like every other unusable setting, its one line naming the variable.
    func unusableRedisURL(_ error: any Error) -> any Error {
        if redisURL != nil { return ValidationError("--redis-url: \(error)") }
        printError("bad configuration: REDIS_URL: \(error)")
        return ExitCode(78)
    }

    /// The URL to use: the flag, then `REDIS_URL`, then the local default.
    var resolvedRedisURL: String {
        redisURL ?? Environment.value("REDIS_URL") ?? "redis://127.0.0.1:6379/0"
    }
}
