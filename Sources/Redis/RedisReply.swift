/// A Redis reply, copied out of hiredis's C tree into Swift values.
///
/// Every reply is copied and the C reply freed before a caller sees it, so no pointer into hiredis
/// memory outlives the call that produced it. Bulk strings are bytes, not `String`: Redis values are
/// binary-safe (NUL bytes, any encoding), and decoding is the caller's choice.
public enum RedisReply: Sendable, Hashable {
    /// A simple string such as `OK` or `QUEUED`.
    case status(String)
    /// An error reply such as `ERR unknown command`. Single-command calls throw it as ``RedisError``;
    /// pipelines return it in place so one failing command does not hide the others' replies.
    case error(String)
    /// A 64-bit integer.
    case integer(Int64)
    /// A bulk string, byte for byte.
    case bulk([UInt8])
    /// An array, possibly nested, possibly holding `.null` elements.
    case array([RedisReply])
    /// The nil bulk string or nil array.
    case null
}

extension RedisReply {
    /// The value as UTF-8 text, for bulk strings and status replies.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// The raw bytes of a bulk string.
    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    /// An integer reply, or a bulk string that holds a decimal integer (as `HGET` returns).
    public var int: Int? {
        switch self {
        case .integer(let value): Int(value)
        case .bulk(let bytes): Int(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// A bulk string holding a decimal number (a sorted-set score, `INCRBYFLOAT`).
    public var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .bulk(let bytes): Double(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// True for the nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The error text, for an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    /// True for a refusal that means "this node is not the primary": the command did not run, so it is safe to send
    /// it again (to the primary). `READONLY` (a replica; also inside a script, which then wrote nothing: a replica
    /// refuses every write), `MASTERDOWN` (a replica that lost its primary), and a transaction refused at its `EXEC`
    /// for it — `EXECABORT Transaction discarded because of: READONLY …` (Redis 7, no dash: the node was demoted
    /// after the writes were queued; it ran none of them).
    var refusesAsNotPrimary: Bool {
        guard case .error(let message) = self else { return false }
        return message.hasPrefix("READONLY") || message.hasPrefix("MASTERDOWN") || message.contains("-READONLY ")
            || (message.hasPrefix("EXECABORT") && (message.contains(": READONLY ") || message.contains(": MASTERDOWN ")))
    }
}

extension RedisReply: CustomStringConvertible {
    public var description: String {
        switch self {
        case .status(let s): return s
        case .error(let e): return "(error) \(e)"
        case .integer(let i): return "(integer) \(i)"
        case .bulk(let b): return "\"\(String(decoding: b, as: UTF8.self))\""
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .null: return "(nil)"
        }
    }
}
