/// Redis stream entry ids (`<ms>-<seq>`, two decimal 64-bit numbers) read as their two numbers: to order them (by the
/// first, then the second) and to hold them (``Leases``).
enum StreamEntryID {
    /// `<ms>-<seq>` as its two numbers, to compare as a tuple; nil for anything else, a part beyond 64 bits included
    /// (Redis's ids are two 64-bit numbers). An id read as nil precedes nothing and follows nothing: the acknowledge
    /// script then removes entries one by one, as it does for any batch it cannot order. Read in place: it ran for
    /// every acknowledged job (``JobStore/newestEntryID(_:)``), where the substring comparisons it replaced cost ~3,500
    /// instructions a job (callgrind, session 12), and checking each digit for overflow ~250 more (session 13). Since
    /// session 27 a fetched job's id is read once (``FetchedJob/held``, by ``canonical(_:)``), and this reads only the
    /// ids not in Redis's form.
    static func order(_ id: String) -> (ms: UInt64, seq: UInt64)? {
        numbers(id, canonical: false)
    }

    /// ``order(_:)`` for an id in the form Redis writes, no part with a leading zero ("0" itself aside): its numbers
    /// written back (`"\(ms)-\(seq)"`) give the very text. Nil for any other id.
    static func canonical(_ id: String) -> (ms: UInt64, seq: UInt64)? {
        numbers(id, canonical: true)
    }

    private static func numbers(_ id: String, canonical: Bool) -> (ms: UInt64, seq: UInt64)? {
        if let parsed = id.utf8.withContiguousStorageIfAvailable({ parse($0, canonical: canonical) }) { return parsed }
        return Array(id.utf8).withUnsafeBufferPointer { parse($0, canonical: canonical) }
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, canonical: Bool) -> (ms: UInt64, seq: UInt64)? {
        guard let (ms, dash) = part(bytes, from: 0, canonical: canonical), dash < bytes.count, bytes[dash] == UInt8(ascii: "-"),
            let (seq, end) = part(bytes, from: dash + 1, canonical: canonical), end == bytes.count
        else { return nil }
        return (ms, seq)
    }

    /// The decimal number whose digits start at `start`, and where they end; nil when there are none, when it is
    /// beyond 64 bits, or (`canonical`) when it has a leading zero. One pass: up to 19 digits always fit in 64 bits, so
    /// Redis's usual ids (13 and 1–3 digits) are read without overflow checks, and a longer run is read again with
    /// them. (Finding the digits' end first and reading them after cost ~90 instructions a call more, callgrind,
    /// session 27: three calls a job.)
    @inline(__always)
    private static func part(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, canonical: Bool) -> (UInt64, end: Int)? {
        var end = start
        var value: UInt64 = 0
        while end < bytes.count {
            let digit = bytes[end] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            value = value &* 10 &+ UInt64(digit)  // wraps past 19 digits: such a run is read again below
            end += 1
        }
        let count = end - start
        guard count >= 1, !canonical || bytes[start] != UInt8(ascii: "0") || count == 1 else { return nil }
        if count <= 19 { return (value, end) }
        guard let checked = checkedNumber(bytes, start..<end) else { return nil }
        return (checked, end)
    }

    /// The digits in `digits` as a number, nil beyond 64 bits.
    @inline(never)
    private static func checkedNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ digits: Range<Int>) -> UInt64? {
        var value: UInt64 = 0
        for index in digits {
            let (times10, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (next, carried) = times10.addingReportingOverflow(UInt64(bytes[index] &- UInt8(ascii: "0")))
            guard !overflowed, !carried else { return nil }
            value = next
        }
        return value
    }
}
