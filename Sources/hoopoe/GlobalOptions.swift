import ArgumentParser

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("redis-url"),
        help: ArgumentHelp(
            "Redis URL: redis://[user:password@]host:port/db or unix:///path.sock?db=N. Default: $REDIS_URL, else redis://127.0.0.1:6379/0.",
            valueName: "url"))
    var redisURL: String?

    /// The URL to use: the flag, then `REDIS_URL`, then the local default.
    var resolvedRedisURL: String {
        redisURL ?? Environment.value("REDIS_URL") ?? "redis://127.0.0.1:6379/0"
    }
}
