/// How the Redis deployment is laid out: what a client must do to find the node a command goes to.
public enum RedisTopology: Sendable, Hashable {
    /// One server at ``RedisConfiguration/endpoint``.
    case standalone
    /// A primary (and replicas) watched by sentinels, which name the current primary.
    case sentinel(RedisSentinelSettings)
    /// A Redis Cluster; `seeds` are nodes to ask for the slot map (any reachable one will do).
    case cluster(seeds: [RedisConfiguration.Endpoint])
}

/// Where the sentinels are and which primary to ask them for (`redis-sentinel://h1:p1,h2:p2/db?master=NAME`).
///
/// The user and password of the URL's authority are the data nodes'; the sentinels' own (Sentinel can have a
/// different ACL) are ``username`` and ``password``, from `sentinel_user=` and `sentinel_password=`.
public struct RedisSentinelSettings: Sendable, Hashable {
    /// The sentinels: every one is asked, and the answer with the highest config epoch names the primary (an older one only when every sentinel agrees on it).
    public var sentinels: [RedisConfiguration.Endpoint]
    /// The monitored primary's name (`sentinel monitor NAME ...` in the sentinels' configuration).
    public var masterName: String
    /// The sentinels' ACL user, or nil.
    public var username: String?
    /// The sentinels' password, or nil; never printed.
    public var password: String?
    /// TLS to the sentinels themselves (`sentinel_tls=`; by default the same as to the data nodes).
    public var tls: RedisTLS?

    /// - Parameters:
    ///   - sentinels: at least one sentinel.
    ///   - masterName: the monitored primary's name.
    ///   - username: the sentinels' ACL user.
    ///   - password: the sentinels' password.
    ///   - tls: TLS to the sentinels, or nil.
    public init(
        sentinels: [RedisConfiguration.Endpoint], masterName: String, username: String? = nil, password: String? = nil,
        tls: RedisTLS? = nil
    ) {
        self.sentinels = sentinels
        self.masterName = masterName
        self.username = username
        self.password = password
        self.tls = tls
    }
}
