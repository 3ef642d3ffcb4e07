/// The order of Redis stream entry ids (`<ms>-<seq>`, two decimal 64-bit numbers): by the first number, then the
/// second.
enum StreamEntryID {
    /// `<ms>-<seq>` as its two numbers, to compare as a tuple; nil for anything else, a part beyond 64 bits included
    /// (Redis's ids are two 64-bit numbers). An id read as nil precedes nothing and follows nothing: the acknowledge
    /// script then removes entries one by one, as it does for any batch it cannot order. Read in place: it runs for
    /// every acknowledged job (``JobStore/newestEntryID(_:)``), where the substring comparisons it replaced cost ~3,500
    /// instructions a job (callgrind, session 12), and checking each digit for overflow ~250 more (session 13).
    static func order(_ id: String) -> (ms: UInt64, seq: UInt64)? {
        if let parsed = id.utf8.withContiguousStorageIfAvailable({ parse($0) }) { return parsed }
        return Array(id.utf8).withUnsafeBufferPointer { parse($0) }
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (ms: UInt64, seq: UInt64)? {
        guard let dash = bytes.firstIndex(of: UInt8(ascii: "-")),
            let ms = number(bytes[..<dash]), let seq = number(bytes[(dash + 1)...])
        else { return nil }
        return (ms, seq)
    }

    /// A part's decimal digits as a number; nil when empty, not all digits, or beyond 64 bits. Up to 19 digits always
    /// fit in 64 bits, so Redis's usual ids (13 and 1–3 digits) are read without overflow checks.
    private static func number(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        if digits.count <= 19 {
            for byte in digits {
                let digit = byte &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value &* 10 &+ UInt64(digit)
            }
            return value
        }
        for byte in digits {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (next, carried) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflowed, !carried else { return nil }
            value = next
        }
        return value
    }
}
