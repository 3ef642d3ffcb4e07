/// Where a JSON string's plain run ends, eight bytes at a time: for the writer (``JSONTextWriting/string(_:)``) and the
/// readers (``JSONByteCursor/skipPlainRun()``), which otherwise compared each byte three times.
///
/// A word is tested in a few operations with the classic "has a byte less than n" and "has a zero byte" tricks
/// (Hacker's Delight, ch. 6; Anderson's bit hacks), whose lowest set bit marks the first byte that matches. Bytes from
/// 0x80 up (UTF-8 beyond ASCII) never match: their top bit is set, and both tests clear it with `~word`.
enum JSONEscapeScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    /// The top bit of each byte: a word of ASCII has none of them set.
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether one byte ends a plain run: a control below U+0020, `"` or `\`. The rule ``firstEnding(_:)`` applies to
    /// eight bytes at once; the writer and the readers apply this one to the last bytes of a string, fewer than eight.
    @inline(__always)
    static func endsPlainRun(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Where the first of the word's eight bytes that ends a plain run stands (0–7): a control below U+0020, `"` or
    /// `\`; 8 when none does. The word's first byte in memory is its lowest (``word(_:at:)``), and each test's lowest
    /// set bit is exact: a borrow only ever runs upward from a byte that matches.
    @inline(__always)
    static func firstEnding(_ word: UInt64) -> Int {
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslash = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        let zeroQuote = (quote &- ones) & ~quote & highs
        let zeroBackslash = (backslash &- ones) & ~backslash & highs
        return (control | zeroQuote | zeroBackslash).trailingZeroBitCount >> 3
    }

    /// Whether any of the first `count` (0–8) bytes of the word is from 0x80 up (UTF-8 beyond ASCII).
    @inline(__always)
    static func hasNonASCII(_ word: UInt64, first count: Int) -> Bool {
        let kept = count >= 8 ? word : word & ((1 << UInt64(count * 8)) &- 1)
        return kept & highs != 0
    }

    /// The eight bytes at `offset` of `bytes`, which must hold them, the first in memory the lowest.
    @inline(__always)
    static func word(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + offset).loadUnaligned(as: UInt64.self))
    }
}
