/// One Redis command, its arguments stored as bytes in one buffer.
///
/// Arguments are binary-safe: a `String` is sent as its UTF-8 bytes (Persian text, NUL bytes and all),
/// and `[UInt8]` as is. One contiguous buffer means one allocation per command, not one per argument,
/// which matters when a worker pipelines thousands of commands a second.
public struct RedisCommand: Sendable {
    /// All arguments, concatenated.
    private(set) var buffer: [UInt8]
    /// The length of each argument in `buffer`.
    private(set) var lengths: [Int]
    /// Extra seconds this command may block on the server (`BLMOVE`, `XREADGROUP BLOCK`), added to the
    /// connection's read timeout so the wait is not mistaken for a dead server.
    public var blockingSeconds: Double = 0
    /// Reads this command's reply in place on the connection's thread instead of copying it
    /// (``RedisConnection/send(_:decoding:)``, which sets it); the reply then comes back as `.null`.
    @usableFromInline var replyDecoder: (@Sendable (RedisReplyView) -> Void)?

    /// - Parameters:
    ///   - name: the command, e.g. `"SET"`.
    ///   - arguments: its arguments as text.
    public init(_ name: String, _ arguments: [String] = []) {
        buffer = []
        buffer.reserveCapacity(name.utf8.count + arguments.reduce(0) { $0 + $1.utf8.count })
        lengths = []
        lengths.reserveCapacity(arguments.count + 1)
        append(name)
        for argument in arguments { append(argument) }
    }

    /// - Parameters:
    ///   - name: the command, e.g. `"SET"`.
    ///   - arguments: its arguments as text.
    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments)
    }

    /// An empty command (its name only) with room for `bytes` more argument bytes and `arguments` more arguments, for
    /// a caller that appends them: a batch of thousands of `XADD`s then allocates once a command, not once per grow.
    public init(_ name: String, reservingCapacity bytes: Int, arguments: Int) {
        buffer = []
        buffer.reserveCapacity(name.utf8.count + bytes)
        lengths = []
        lengths.reserveCapacity(arguments + 1)
        append(name)
    }

    /// Appends a text argument as UTF-8, its bytes copied from the string's own storage. (`append(contentsOf:
    /// argument.utf8)` took the collection path: ~290 instructions a worker job more, seven arguments a job; callgrind,
    /// session 24.)
    /// A native string's bytes are read in place; `var argument = argument; argument.withUTF8`, which a bridged string
    /// still takes, copied the string first (a retain and a release an argument).
    public mutating func append(_ argument: String) {
        if argument.utf8.withContiguousStorageIfAvailable({ appendArgument($0) }) != nil { return }
        var argument = argument
        argument.withUTF8 { appendArgument($0) }
    }

    private mutating func appendArgument(_ bytes: UnsafeBufferPointer<UInt8>) {
        buffer.append(contentsOf: bytes)
        lengths.append(bytes.count)
    }

    /// Appends a binary argument as is: one copy of contiguous bytes. (It took any `Collection<UInt8>` before; called
    /// from another module with an array, that generic ran unspecialized: ~1,000 instructions for a 148-byte envelope,
    /// a job at enqueue.)
    public mutating func append(bytes argument: [UInt8]) {
        argument.withUnsafeBufferPointer { buffer.append(contentsOf: $0) }
        lengths.append(argument.count)
    }

    /// Appends an integer argument in decimal.
    public mutating func append(_ argument: Int) {
        append(String(argument))
    }

    /// Appends several text arguments.
    public mutating func append(contentsOf arguments: some Sequence<String>) {
        for argument in arguments { append(argument) }
    }

    /// The command's name (its first argument), upper-cased, for error messages and logs.
    public var name: String {
        String(decoding: buffer.prefix(lengths.first ?? 0), as: UTF8.self).uppercased()
    }

    /// True when `other` has the same arguments (name included), byte for byte.
    func isSame(_ other: RedisCommand) -> Bool {
        lengths == other.lengths && buffer == other.buffer
    }

    /// The number of arguments, the name included.
    public var count: Int { lengths.count }

    /// The arguments, split out again (for tests and diagnostics; not on a hot path).
    public var arguments: [[UInt8]] {
        var result: [[UInt8]] = []
        var offset = 0
        for length in lengths {
            result.append(Array(buffer[offset..<offset + length]))
            offset += length
        }
        return result
    }
}
