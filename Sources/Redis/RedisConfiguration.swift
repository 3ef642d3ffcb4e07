/// Where the Redis server is and how to talk to it.
///
/// Built from a URL so one environment variable (`REDIS_URL`) configures every process (see
/// `RedisConfiguration+URL.swift` for the forms): one server over TCP (`redis://`), TLS (`rediss://`) or a Unix
/// socket (`unix://`), a primary found through Sentinel (`redis-sentinel://`), or a Redis Cluster
/// (`redis-cluster://`, `rediss-cluster://`).
public struct RedisConfiguration: Sendable, Hashable {
    /// How to reach the server.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// A TCP host and port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unix(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unix(let path): path
            }
        }
    }

    /// How to reach the server. For Sentinel this is the first sentinel and for a cluster the first seed node:
    /// the data node a connection talks to comes from ``RedisConnection``'s `address`, asked before each connect.
    public var endpoint: Endpoint
    /// One server, a primary found through Sentinel, or a cluster.
    public var topology: RedisTopology
    /// TLS to the data nodes, or nil for plain TCP.
    public var tls: RedisTLS?
    /// The ACL user for `AUTH user password`; nil for the `default` user.
    public var username: String?
    /// The password; never printed (see ``redactedURL``).
    public var password: String?
    /// The logical database, selected on every new connection (always 0 in a cluster).
    public var database: Int
    /// How long one connection attempt may take.
    public var connectTimeout: Duration
    /// How long a reply may take before the command fails with a timeout.
    public var commandTimeout: Duration
    /// How long the next command keeps trying to reconnect (with backoff) after the connection dropped,
    /// before it fails. Covers a Redis restart or failover without failing every call in between.
    public var reconnectWindow: Duration
    /// On a Redis Cluster: how long a command for a slot whose primary cannot be reached waits, asking the cluster
    /// for its map again with backoff, for a replica to be promoted (`cluster-node-timeout`, 15 s by default, plus
    /// about a second) before it fails. Never shorter than ``reconnectWindow``; 20 s by default.
    public var clusterFailoverWindow: Duration = .seconds(20)
    /// Shared, pipelining connections in a ``RedisClient``. Each has its own thread; concurrent callers'
    /// commands are batched into one round trip, so a few connections serve many tasks.
    public var poolSize: Int
    /// Replicas that must acknowledge a durable write (`WAIT`) before it is reported done; 0 = off.
    /// From `REDIS_WAIT_REPLICAS` or the URL's `wait_replicas=`.
    public var waitReplicas: Int
    /// How long a durable write waits for ``waitReplicas`` (`WAIT`'s timeout). From `REDIS_WAIT_TIMEOUT_MS` or the
    /// URL's `wait_timeout_ms=`; 1 s by default.
    public var waitTimeout: Duration
    /// The longest ``waitTimeout`` a setting may ask for: an hour. A `WAIT` holds its connection that long, and a
    /// larger number once trapped converting it back to milliseconds.
    public static let maxWaitTimeoutMilliseconds = 3_600_000
    /// The durable-write options the URL spelled out (`wait_replicas`, `wait_timeout_ms`): an explicit URL option
    /// beats the environment (``applyEnvironment(_:)``), `wait_replicas=0` included.
    var waitOptionsInURL: Set<String> = []
    /// Whether the URL set the command timeout (`timeout=`): a client that shortens timeouts for its own use (the CLI's
    /// admin commands) keeps the one the operator asked for.
    public internal(set) var commandTimeoutInURL = false

    /// - Parameters:
    ///   - endpoint: how to reach the server.
    ///   - topology: one server (default), Sentinel or a cluster.
    ///   - tls: TLS settings, or nil for none.
    ///   - username: ACL user, or nil.
    ///   - password: password, or nil.
    ///   - database: database number (0).
    ///   - connectTimeout: per connection attempt (5 s).
    ///   - commandTimeout: per reply (5 s).
    ///   - reconnectWindow: how long a command keeps reconnecting before it fails (3 s).
    ///   - poolSize: shared connections (1: one connection batches concurrent callers best; decision 0001).
    ///   - waitReplicas: replicas a durable write waits for (0: off).
    ///   - waitTimeout: how long it waits (1 s).
    public init(
        endpoint: Endpoint = .tcp(host: "127.0.0.1", port: 6379), topology: RedisTopology = .standalone, tls: RedisTLS? = nil,
        username: String? = nil, password: String? = nil, database: Int = 0, connectTimeout: Duration = .seconds(5),
        commandTimeout: Duration = .seconds(5), reconnectWindow: Duration = .seconds(3), poolSize: Int = 1,
        waitReplicas: Int = 0, waitTimeout: Duration = .seconds(1)
    ) {
        self.endpoint = endpoint
        self.topology = topology
        self.tls = tls
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectWindow = reconnectWindow
        self.poolSize = max(1, poolSize)
        self.waitReplicas = max(0, waitReplicas)
        self.waitTimeout = waitTimeout
    }
}
