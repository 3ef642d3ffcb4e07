import CHiredis

#if canImport(Glibc)
import Glibc
#endif

// One of the four files that touch hiredis memory (with RESPReader.swift, ../RedisReply+hiredis.swift and
// ../RedisReplyView.swift).

/// Where hiredis's reader builds a reply's tree: one block of memory, handed out front to back and taken back whole
/// once the reply has been read (``RESPReader/next(decoding:)``), instead of a `calloc` a node, a `malloc` a string and
/// a `calloc` an array's table, each freed again by `freeReplyObject`.
///
/// The tree is the one hiredis's own functions build (`redisReply` nodes, a nil as a `REDIS_REPLY_NIL` node, each
/// string NUL-terminated), so ``RedisReplyView`` and ``RedisReply/init(copying:)`` read it unchanged.
///
/// Why: a fetch's `XREADGROUP` reply is ~10 C objects an entry, each allocated on the connection's thread and freed
/// after the fetch's decoder ran: ~9 % of a worker job's instructions went to hiredis's reply objects
/// (docs/benchmarks.md, session 15). Decision 0047 built Swift replies from hiredis's callbacks instead, and did not
/// pay; this keeps hiredis's tree and changes only where it lives (decision 0057).
///
/// Safe to take back whole after a reply because hiredis's reader stops as soon as a reply is complete: nothing of the
/// next reply is built until the next `redisReaderGetReply`. A reply still incomplete keeps its nodes until it is
/// complete (or the reader is freed with its connection). The first block is kept for the reader's life; blocks taken
/// for a reply larger than it are freed once that reply is read.
struct ReplyArena {
    /// The block each reply starts in.
    private let first: UnsafeMutableRawPointer
    private var used = 0
    /// The block being filled when a reply outgrew `first` (nil otherwise), and how much of it is used. Each block taken
    /// that way begins with a pointer to the one taken before it, so all can be freed.
    private var spill: UnsafeMutableRawPointer?
    private var spillUsed = 0
    private var spillSize = 0

    /// The first block's size: a fetch of 40 jobs (the default prefetch) needs about 24 KiB.
    static let blockSize = 32 * 1024
    private static let spillHeader = MemoryLayout<UnsafeMutableRawPointer?>.stride
    /// The largest block size the next block doubles (``allocate(_:)``).
    private static let maxDoubledBlock = 8 * 1024 * 1024

    /// A new arena in memory of its own, for a reader's `privdata`; nil when out of memory.
    static func make() -> UnsafeMutablePointer<ReplyArena>? {
        guard let first = malloc(blockSize) else { return nil }
        let arena = UnsafeMutablePointer<ReplyArena>.allocate(capacity: 1)
        arena.initialize(to: ReplyArena(first: first))
        return arena
    }

    private init(first: UnsafeMutableRawPointer) {
        self.first = first
    }

    /// Frees every block and the arena itself (made by ``make()``).
    static func destroy(_ arena: UnsafeMutablePointer<ReplyArena>) {
        arena.pointee.reset()
        free(arena.pointee.first)
        arena.deinitialize(count: 1)
        arena.deallocate()
    }

    /// Takes back everything handed out: the first block is used from its start again, the others are freed.
    mutating func reset() {
        used = 0
        var block = spill
        while let current = block {
            block = current.load(as: UnsafeMutableRawPointer?.self)
            free(current)
        }
        spill = nil
        spillUsed = 0
        spillSize = 0
    }

    /// `size` bytes, 8-byte aligned (a node's fields are 8-byte words); nil when out of memory.
    mutating func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        let size = (size + 7) & ~7
        if spill == nil && used + size <= Self.blockSize {
            defer { used += size }
            return first + used
        }
        if let spill, spillUsed + size <= spillSize {
            defer { spillUsed += size }
            return spill + spillUsed
        }
        // A new block, at least twice the last: a large reply takes a few blocks, not one per 32 KiB. Doubled from at
        // most 8 MiB: after one oversized block (a large array's table) the next is not twice that.
        let blockSize = max(Self.spillHeader + size, 2 * max(min(spillSize, Self.maxDoubledBlock), Self.blockSize))
        guard let block = malloc(blockSize) else { return nil }
        block.storeBytes(of: spill, as: UnsafeMutableRawPointer?.self)
        spill = block
        spillSize = blockSize
        spillUsed = Self.spillHeader + size
        return block + Self.spillHeader
    }

    /// The most elements an array reply may have (16,777,216: a 128 MiB table). Hoopoe's largest replies (a page of a
    /// stream, a fetch, a scan) are thousands; hiredis 0.14 has no limit of its own.
    static let maxArrayElements = 1 << 24

    /// hiredis's object functions building into the arena that is the reader's `privdata`. `freeObject` does nothing:
    /// hiredis calls it only to drop a reply it abandons (a protocol error, the reader freed mid-reply), whose nodes the
    /// arena takes back with the rest.
    nonisolated(unsafe) static let functions: UnsafeMutablePointer<redisReplyObjectFunctions> = {
        let table = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
        table.initialize(to: redisReplyObjectFunctions(
            createString: { task, text, count in
                guard let task, let reply = node(task, Int32(task.pointee.type)) else { return nil }
                guard let buffer = arena(task).pointee.allocate(count + 1) else { return nil }
                if count > 0, let text { memcpy(buffer, text, count) }
                buffer.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
                reply.pointee.str = buffer.assumingMemoryBound(to: CChar.self)
                reply.pointee.len = count
                return UnsafeMutableRawPointer(reply)
            },
            createArray: { task, count in
                // A header alone (`*2147483647\r\n`) asked for the whole table at once: over the limit it is refused
                // (hiredis reports it, and the connection is dropped), and the table is not zeroed, so its pages are
                // touched only as elements arrive (hiredis fills every slot before the reply is complete, and an
                // incomplete tree is never read). Zeroed, a 14-byte header from whoever answers on the socket made
                // the worker touch 16 GiB.
                guard let task, count <= maxArrayElements, let reply = node(task, REDIS_REPLY_ARRAY) else { return nil }
                if count > 0 {
                    let size = Int(count) * MemoryLayout<UnsafeMutablePointer<redisReply>?>.stride
                    guard let table = arena(task).pointee.allocate(size) else { return nil }
                    reply.pointee.element = table.bindMemory(to: UnsafeMutablePointer<redisReply>?.self, capacity: Int(count))
                }
                reply.pointee.elements = Int(count)
                return UnsafeMutableRawPointer(reply)
            },
            createInteger: { task, value in
                guard let task, let reply = node(task, REDIS_REPLY_INTEGER) else { return nil }
                reply.pointee.integer = value
                return UnsafeMutableRawPointer(reply)
            },
            createNil: { task in
                guard let task, let reply = node(task, REDIS_REPLY_NIL) else { return nil }
                return UnsafeMutableRawPointer(reply)
            },
            freeObject: { _ in }))
        return table
    }()

    private static func arena(_ task: UnsafePointer<redisReadTask>) -> UnsafeMutablePointer<ReplyArena> {
        task.pointee.privdata.assumingMemoryBound(to: ReplyArena.self)
    }

    /// A zeroed node of `type`, put in its parent's table as hiredis's own functions do.
    private static func node(_ task: UnsafePointer<redisReadTask>, _ type: Int32) -> UnsafeMutablePointer<redisReply>? {
        guard let raw = arena(task).pointee.allocate(MemoryLayout<redisReply>.stride) else { return nil }
        let reply = raw.bindMemory(to: redisReply.self, capacity: 1)
        reply.initialize(to: redisReply(type: type, integer: 0, len: 0, str: nil, elements: 0, element: nil))
        if let parent = task.pointee.parent {
            parent.pointee.obj.assumingMemoryBound(to: redisReply.self).pointee.element[Int(task.pointee.idx)] = reply
        }
        return reply
    }
}
