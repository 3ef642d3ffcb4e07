import Crypto

/// A Lua script run with `EVALSHA`.
///
/// The client loads it with `SCRIPT LOAD` on first use and remembers the SHA; when the server has
/// forgotten it (`NOSCRIPT`: a restart, a failover, `SCRIPT FLUSH`) the client loads it again once and
/// repeats the call. On a cluster the client computes the SHA itself and the node that answers `NOSCRIPT` gets the
/// script loaded (``RedisCluster/scriptSHA(of:)``). The binary carries its scripts (the stores' `.lua` files are compiled in with SwiftPM's
/// `embedInCode`), so a deployment cannot lose them.
public struct RedisScript: Sendable, Hashable {
    /// A short name for errors and logs.
    public let name: String
    /// The Lua source.
    public let source: String
    /// The source's hash, computed once: the client's SHA cache is looked up on every call, and hashing a
    /// several-KiB source each time was ~0.6–1 % of a busy worker's CPU.
    let sourceHash: Int

    /// - Parameters:
    ///   - name: a short name for errors and logs.
    ///   - source: the Lua source.
    public init(name: String, source: String) {
        self.name = name
        self.source = source
        sourceHash = source.hashValue
    }

    /// The SHA-1 of `source` in hex: the name Redis gives a script (`EVALSHA`), and the version tag of the function
    /// library (`FunctionLibrary`): one copy of the hashing for both.
    public static func sha1(_ source: String) -> String {
        sha1(bytes: Array(source.utf8))
    }

    /// The SHA-1 of `bytes` in hex, as Lua's `redis.sha1hex` gives it: a value a script compares without it being
    /// passed whole (or through a Swift string, which would turn bytes that are not UTF-8 into U+FFFD).
    public static func sha1(bytes: [UInt8]) -> String {
        Insecure.SHA1.hash(data: bytes).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// A script from a `.lua` file compiled into the binary: `resources: [.embedInCode("<Area>/Lua")]` in
    /// Package.swift makes each file `PackageResources.<file>_lua`, its bytes.
    /// - Parameters:
    ///   - name: a short name for errors and logs.
    ///   - bytes: the file's bytes (UTF-8 Lua).
    public init(name: String, embedded bytes: [UInt8]) {
        self.init(name: name, source: String(decoding: bytes, as: UTF8.self))
    }
}
