import CHiredis

// One of the two files that touch hiredis memory (the other is Transport/RESPReader.swift).
// hiredis's reader calls the object functions below as it parses; they build `RedisReply` values directly, so no
// C `redisReply` tree is allocated, walked and freed (decision 0047).

/// Builds ``RedisReply`` values from hiredis's reader, one call per RESP element in the order hiredis parses them
/// (pre-order: an array, then each of its elements).
///
/// A stack of the arrays being filled: an element goes into the innermost, and an array that has all its elements
/// goes into its parent, or becomes the finished reply at the root. hiredis limits nesting to 7 levels, so the stack
/// stays small, and it keeps its capacity from one reply to the next.
///
/// One per ``RESPReader``, which keeps it in memory of its own and gives hiredis a pointer to it as the reader's
/// privdata: a struct mutated through that pointer, not a class, because a class's stored properties are checked
/// for exclusive access at run time and its reference retained and released at each call (together ~40 % more
/// time a reply than the C tree it replaces, in a micro-benchmark; the struct is ~10 % less). Connection-thread
/// only, like the reader. A
/// half-built reply is dropped by ``reset()``, which hiredis's `freeObject` calls when it abandons its root (a
/// protocol error, or the reader freed mid-reply); the reader is dropped with its connection on an error anyway.
struct RedisReplyBuilder {
    private struct Frame {
        var elements: [RedisReply]
        let count: Int
    }

    private var frames: [Frame] = []
    private var finished: RedisReply?
    /// Why the builder refused an element (hiredis then reports only "Out of memory").
    private(set) var refusal: String?

    /// Whether an array is still being filled: bytes fed so far end inside a reply.
    var isMidReply: Bool { !frames.isEmpty }

    /// Adds a complete element (a scalar, or an array that has all its elements).
    mutating func add(_ value: RedisReply) {
        var value = value
        while let last = frames.indices.last {
            frames[last].elements.append(value)
            if frames[last].elements.count < frames[last].count { return }
            value = .array(frames.removeLast().elements)
        }
        finished = value
    }

    /// Starts an array of `count` elements; hiredis finishes an empty one at once, without elements to follow.
    /// - Returns: false for a negative count other than -1 (hiredis's nil array, which comes as nil): not RESP.
    mutating func beginArray(count: Int) -> Bool {
        guard count >= 0 else {
            refusal = "Protocol error, bad multi-bulk length \(count)"
            return false
        }
        if count == 0 {
            add(.array([]))
            return true
        }
        var elements: [RedisReply] = []
        // Capped: the count comes from the server, and an array that large grows as its elements arrive.
        elements.reserveCapacity(min(count, 1 << 16))
        frames.append(Frame(elements: elements, count: count))
        return true
    }

    /// The reply hiredis just reported complete; the builder is empty again.
    mutating func takeFinished() -> RedisReply? {
        defer { finished = nil }
        return finished
    }

    /// Drops a half-built reply.
    mutating func reset() {
        frames.removeAll(keepingCapacity: true)
        finished = nil
    }

    /// hiredis's object functions for readers whose privdata is a builder (``RESPReader``). hiredis keeps this
    /// pointer, not a copy, so the table lives as long as the process; it is never written after it is made.
    nonisolated(unsafe) static let functions: UnsafeMutablePointer<redisReplyObjectFunctions> = {
        let table = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
        table.initialize(to: redisReplyObjectFunctions(
            createString: { task, string, length in
                guard let task, let token = task.pointee.privdata else { return nil }
                let bytes = UnsafeRawBufferPointer(start: string, count: string == nil ? 0 : length)
                let value: RedisReply = switch task.pointee.type {
                case REDIS_REPLY_STATUS: .status(String(decoding: bytes, as: UTF8.self))
                case REDIS_REPLY_ERROR: .error(String(decoding: bytes, as: UTF8.self))
                default: .bulk(Array(bytes))
                }
                RedisReplyBuilder.of(token).pointee.add(value)
                return token
            },
            createArray: { task, count in
                guard let task, let token = task.pointee.privdata else { return nil }
                return RedisReplyBuilder.of(token).pointee.beginArray(count: Int(count)) ? token : nil
            },
            createInteger: { task, value in
                guard let task, let token = task.pointee.privdata else { return nil }
                RedisReplyBuilder.of(token).pointee.add(.integer(Int64(value)))
                return token
            },
            createNil: { task in
                guard let task, let token = task.pointee.privdata else { return nil }
                RedisReplyBuilder.of(token).pointee.add(.null)
                return token
            },
            // hiredis frees its root object when it abandons a reply (a protocol error, the reader freed): the
            // "object" every function returns is the builder itself, so this drops the builder's partial state.
            freeObject: { token in
                guard let token else { return }
                RedisReplyBuilder.of(token).pointee.reset()
            }
        ))
        return table
    }()

    /// The builder behind a reader's privdata (the token every object function returns): a pointer to the
    /// ``RESPReader``'s builder, which frees the hiredis reader before it deinitializes the builder.
    private static func of(_ token: UnsafeMutableRawPointer) -> UnsafeMutablePointer<RedisReplyBuilder> {
        token.assumingMemoryBound(to: RedisReplyBuilder.self)
    }
}

extension RedisReply {
    /// Parses raw RESP bytes into replies with hiredis's own reader and the same builder a connection uses
    /// (``RESPReader``), without a server.
    ///
    /// Lets reply conversion be tested byte for byte (and fuzzed) offline.
    /// - Throws: ``RedisError`` `protocolError` for bytes that are not RESP, or a truncated reply.
    public static func parse(resp bytes: [UInt8]) throws -> [RedisReply] {
        do {
            let reader = try RESPReader()
            try bytes.withUnsafeBytes { try reader.feed($0) }
            var replies: [RedisReply] = []
            while let reply = try reader.next() { replies.append(reply) }
            if reader.isTruncated { throw TransportFailure("truncated reply", kind: .protocolError) }
            return replies
        } catch let failure as TransportFailure {
            throw RedisError(.protocolError, endpoint: "reader", message: failure.reason)
        }
    }
}
