/// Writes JSON through a pointer into scratch space on the stack (on the heap once it outgrows that), then hands it
/// back as one array: a job's envelope, written for every job enqueued.
///
/// Why not ``CompactJSONWriter``: it appends to an array, and each `append(contentsOf:)` checks the array's uniqueness
/// and capacity on the generic sequence path, ~90 instructions a call; an envelope takes ~10 such calls (its keys,
/// strings and numbers), ~1,000 instructions a job of a batch enqueue (callgrind, session 17). Here a call is a length
/// test and a copy. The array is made once at the end, from the bytes written: one allocation, as before, and one copy
/// of a few hundred bytes. The rules are ``JSONTextWriting``'s, so the bytes are the same as the other writers'.
struct ScratchJSONWriter: JSONTextWriting {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// How many bytes were written.
    private var count = 0
    /// Whether `base` is heap memory this writer allocated, which ``write(_:)`` frees.
    private var onHeap = false

    private init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// The scratch space on the stack: an envelope is a few hundred bytes, and one that is larger moves to the heap.
    static let stackBytes = 1024

    /// The bytes `body` writes.
    static func write<Failure: Error>(
        _ body: (inout ScratchJSONWriter) throws(Failure) -> Void
    ) throws(Failure) -> [UInt8] {
        // `withUnsafeTemporaryAllocation` rethrows untyped: the typed failure goes round it in a Result.
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stackBytes) { scratch in
            var writer = ScratchJSONWriter(base: scratch.baseAddress!, capacity: scratch.count)
            defer { if writer.onHeap { writer.base.deallocate() } }
            return Result { () throws(Failure) in
                try body(&writer)
                return writer.bytes
            }
        }.get()
    }

    /// The bytes written so far, copied into an array. (Not `Array(unsafeUninitializedCapacity:)`: in a release
    /// build that looked up the array storage's generic metadata at run time, ~300 instructions a call.)
    private var bytes: [UInt8] {
        var array: [UInt8] = []
        array.reserveCapacity(count)
        array.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
        return array
    }

    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(toHold: count + 1) }
        base[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if capacity - count < bytes.count { grow(toHold: count + bytes.count) }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Moves what was written to heap memory of at least `needed` bytes (twice the last at least).
    private mutating func grow(toHold needed: Int) {
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: max(needed, 2 * capacity))
        larger.update(from: base, count: count)
        if onHeap { base.deallocate() }
        base = larger
        capacity = max(needed, 2 * capacity)
        onHeap = true
    }
}
