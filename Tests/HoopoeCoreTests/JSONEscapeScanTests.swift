import Testing

@testable import HoopoeCore

/// The eight-bytes-at-a-time scan both JSON readers and the writer rely on (``JSONEscapeScan``): it must find every
/// byte that ends a string's plain run, wherever it stands in a word, and take no other byte for one; the readers'
/// ASCII verdict must see every byte from 0x80 up.
@Suite struct JSONEscapeScanTests {
    /// A cursor over given bytes, as the readers are.
    struct Cursor: JSONByteCursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
    }

    /// Where the run ends and whether it was ASCII, as one comparison a byte finds them.
    private func expected(_ bytes: [UInt8]) -> (end: Int, ascii: Bool) {
        let end = bytes.firstIndex { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") } ?? bytes.count
        return (end, bytes[..<end].allSatisfy { $0 < 0x80 })
    }

    /// Every byte value, at every place of runs up to two words and a half long, after fillers of every kind: ASCII,
    /// bytes from 0x80 up, and bytes that are an ending one with the top bit set (0xA0, 0xA2, 0xDC, 0x80).
    @Test func everyByteIsJudgedAsOneComparisonAByteJudgesIt() {
        let fillers: [UInt8] = [0x61, 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xA0, 0xA2, 0xDC, 0xFF]
        for filler in fillers {
            for length in 0..<20 {
                for position in 0...length {
                    for byte in UInt8.min...UInt8.max {
                        var bytes = [UInt8](repeating: filler, count: length)
                        bytes.insert(byte, at: position)
                        let want = expected(bytes)
                        let got = bytes.withUnsafeBufferPointer { buffer in
                            var cursor = Cursor(bytes: buffer)
                            let ascii = cursor.skipPlainRun()
                            return (end: cursor.index, ascii: ascii)
                        }
                        if got != want {
                            Issue.record("\(bytes): ended at \(got.end) (ascii \(got.ascii)), not \(want.end) (ascii \(want.ascii))")
                            return
                        }
                    }
                }
            }
        }
    }

    /// The word tests alone, on each byte value in each of the eight places among ASCII letters and among bytes from
    /// 0x80 up, with a later ending byte or none: the first ending byte is found exactly, and the non-ASCII test
    /// looks at exactly the bytes before it.
    @Test func aWordsFirstEndingByteIsFoundExactly() {
        for filler: UInt8 in [UInt8(ascii: "k"), 0xA2] {
            for place in 0..<8 {
                for later in [nil, UInt8(ascii: "\""), 0x1F] as [UInt8?] {
                    for byte in UInt8.min...UInt8.max {
                        var bytes = [UInt8](repeating: filler, count: 8)
                        bytes[place] = byte
                        if let later, place < 7 { bytes[7] = later }
                        let word = bytes.withUnsafeBufferPointer { JSONEscapeScan.word($0, at: 0) }
                        let first = bytes.firstIndex { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") } ?? 8
                        #expect(JSONEscapeScan.firstEnding(word) == first, "\(bytes)")
                        for count in 0...8 {
                            #expect(JSONEscapeScan.hasNonASCII(word, first: count) == bytes[..<count].contains { $0 >= 0x80 }, "\(bytes), \(count)")
                        }
                    }
                }
            }
        }
    }
}
