/// The longest number text Hoopoe reads from JSON, and the check that finds a longer one before a decoder sees it.
///
/// Why: Foundation's `JSONDecoder` does not throw on some numbers, it traps. A number whose value is an integer past
/// 2^53 and whose text is long with an exponent (`9007199254740993` followed by 200 zeros and `e-200`: valid JSON) stops
/// the process with SIGILL when it is decoded into a fixed-width integer (`JSONValue`'s `Int64` attempt, a payload's
/// `Int` field). One such number in a payload took down every worker that fetched the job, before the poison-pill
/// count could bury it. No client writes a number of more than ``maxCharacters`` characters (a `Double`'s shortest
/// form is at most 24, an `Int64` 20), so a text with one is refused whole, as not JSON Hoopoe reads.
public enum JSONNumberLength {
    /// The most characters a number may take in JSON Hoopoe reads: far above any number a client writes, far below
    /// the ~165 at which the decoder was seen to trap.
    public static let maxCharacters = 100

    /// Whether the JSON text `bytes` holds, outside its strings, a number written in more than ``maxCharacters``
    /// characters. One pass over the bytes, no allocation; text that is not JSON gives a meaningless answer, for the
    /// decoder to refuse.
    public static func hasOverlongNumber(_ bytes: some Sequence<UInt8>) -> Bool {
        var inString = false
        var escaped = false
        var run = 0
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                UInt8(ascii: "e"), UInt8(ascii: "E"):
                run += 1
                if run > maxCharacters { return true }
            case UInt8(ascii: "\""):
                inString = true
                run = 0
            default:
                run = 0
            }
        }
        return false
    }

    /// The error a decoding path throws for such a text, naming the limit.
    public struct Overlong: Error, CustomStringConvertible {
        public init() {}
        public var description: String {
            "a number is written in more than \(JSONNumberLength.maxCharacters) characters"
        }
    }
}
