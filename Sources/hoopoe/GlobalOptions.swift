import ArgumentParser
import HoopoeCore
import Redis
import Synchronization

/// Options every subcommand that reads or writes Hoopoe's keys shares: where Redis is, and the key prefix.
struct GlobalOptions: ParsableArguments {
    @OptionGroup var redis: RedisOptions

    @OptionGroup var namespaceOptions: NamespaceOptions

    /// ``NamespaceOptions/namespace``.
    var namespace: String { namespaceOptions.namespace }

    /// ``RedisOptions/makeRedisClient(poolSize:)``.
    func makeRedisClient(poolSize: Int = 1) throws -> RedisClient { try redis.makeRedisClient(poolSize: poolSize) }

    /// ``RedisOptions/redisConfiguration()``.
    func redisConfiguration() throws -> RedisConfiguration { try redis.redisConfiguration() }
}

/// The key prefix: `--namespace`, then `HOOPOE_NAMESPACE`, then `hoopoe`. One copy of that order and its checks, for
/// ``GlobalOptions`` and for the one command that takes the prefix without connecting (`schedule list`, which measures
/// a tick's size in the scheduler's namespace: a `${HOOPOE_NAMESPACE}` in a payload is filled with it).
struct NamespaceOptions: ParsableArguments {
    @Option(name: .customLong("namespace"), help: ArgumentHelp("Key prefix in Redis (default: $HOOPOE_NAMESPACE, else hoopoe).", valueName: "prefix"))
    var namespaceOption: String?

    /// The key prefix: the flag, then `HOOPOE_NAMESPACE`, then `hoopoe`.
    var namespace: String { namespaceOption ?? Environment.value("HOOPOE_NAMESPACE") ?? "hoopoe" }

    /// A namespace with `{` or `}` is refused: a queue's keys carry its name as their hash tag (`hoopoe:{default}:…`),
    /// read back from the first `{` to the last `}`, so `{hoopoe}` made every fetched job's queue
    /// `hoopoe}:{default` and every settle miss its keys. An empty one or one with spaces or control characters is
    /// refused too. From the flag it is a usage error (64); from `HOOPOE_NAMESPACE` a bad setting (78).
    func validate() throws {
        guard let problem = Self.namespaceProblem(namespace) else { return }
        if namespaceOption != nil { throw ValidationError("--namespace: \(problem)") }
        printError("bad configuration: HOOPOE_NAMESPACE: \(problem)")
        throw ExitCode(78)
    }

    static func namespaceProblem(_ namespace: String) -> String? {
        if namespace.isEmpty { return "it is empty" }
        if namespace.contains(where: { $0 == "{" || $0 == "}" }) {
            return "'\(namespace)' holds a brace: queues' keys use braces for their Redis Cluster hash tag (hoopoe:{default}:stream); give a prefix without them"
        }
        if namespace.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            return "\(PrintableText.oneLine("'\(namespace)'")) holds a space or a control character"
        }
        return nil
    }
}

/// Where Redis is: the options of every subcommand that connects. On their own (without ``GlobalOptions``'
/// `--namespace`) for the commands no key prefix concerns, `ping` and `functions load` (functions belong to the whole
/// server): they took `--namespace` and did nothing with it.
struct RedisOptions: ParsableArguments {
    @Option(
        name: .customLong("redis-url"),
        help: ArgumentHelp(
            """
            Redis URL: redis://[user:password@]host:port/db, rediss://…?ca=PATH (TLS), unix:///path.sock?db=N, \
            redis-sentinel://h1:26379,h2:26379/db?master=NAME, redis-cluster://h1:p1,h2:p2 (rediss-cluster:// for TLS). \
            Default: $REDIS_URL, else redis://127.0.0.1:6379/0. TLS files also from $REDIS_TLS_CA, $REDIS_TLS_CERT, \
            $REDIS_TLS_KEY.
            """,
            valueName: "url"))
    var redisURL: String?

    /// A client for the resolved URL.
    /// - Parameter poolSize: its shared connections (`hoopoe worker`: `Worker.sharedConnections`).
    /// - Throws: ``unusableRedisURL(_:)``'s error when the URL cannot be used.
    func makeRedisClient(poolSize: Int = 1) throws -> RedisClient {
        var configuration = try redisConfiguration()
        configuration.poolSize = poolSize
        return RedisClient(configuration: configuration)
    }

    /// The configuration every command connects with: the URL, then `REDIS_TLS_*` and `REDIS_WAIT_*` from the
    /// environment (see `RedisConfiguration.applyEnvironment`). A bad URL is ``unusableRedisURL(_:)``'s error; a bad
    /// variable or an unreadable TLS file stops start-up with exit 78 naming it. `insecure=true` is warned about once.
    /// - Throws: those errors.
    func redisConfiguration() throws -> RedisConfiguration {
        var configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: resolvedRedisURL)
        } catch {
            throw unusableRedisURL(error)
        }
        do {
            try configuration.applyEnvironment(Environment.value)
        } catch {
            printError("bad configuration: \(error)")
            throw ExitCode(78)
        }
        if configuration.tls?.insecure == true, !insecureTLSWarned.exchange(true, ordering: .relaxed) {
            printError("warning: TLS to Redis without verifying the server (insecure=true): anyone on the path can pose as Redis")
        }
        return configuration
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

/// One warning a process about `insecure=true`, however many clients it makes.
private let insecureTLSWarned = Atomic<Bool>(false)
