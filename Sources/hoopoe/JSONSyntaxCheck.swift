/// Finds the first syntax error in JSON text and says where it is (line, column, what was expected), for
/// `hoopoe enqueue --payload`: a person who typed a payload in a shell needs "line 1, column 9: expected `,` or
/// `}`", which Foundation's parser does not give (it reports a character offset at best, the end of the input at
/// worst, and accepts a trailing comma). Strict RFC 8259: no comments, no trailing commas, one value.
struct JSONSyntaxCheck {
    /// A syntax error: where (1-based line and column, in characters) and what.
    struct Problem: Error, CustomStringConvertible, Equatable {
        let line: Int
        let column: Int
        let message: String
        var description: String { "line \(line), column \(column): \(message)" }
    }

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    /// The first problem in `text`, or nil when it is one valid JSON value.
    static func problem(in text: String) -> Problem? {
        var check = JSONSyntaxCheck(bytes: Array(text.utf8))
        do {
            check.skipSpace()
            try check.value()
            check.skipSpace()
            if check.index < check.bytes.count { throw check.problem("unexpected \(check.found) after the JSON value") }
            return nil
        } catch let problem as Problem {
            return problem
        } catch {
            return nil
        }
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private var found: String {
        guard index < bytes.count else { return "end of input" }
        let scalar = String(decoding: bytes[index..<min(index + 4, bytes.count)], as: UTF8.self).first.map(String.init) ?? "?"
        return "`\(scalar)`"
    }

    private func problem(_ message: String) -> Problem {
        var line = 1
        var lineStart = 0
        for (offset, byte) in bytes[..<min(index, bytes.count)].enumerated() where byte == UInt8(ascii: "\n") {
            line += 1
            lineStart = offset + 1
        }
        let column = String(decoding: bytes[lineStart..<min(index, bytes.count)], as: UTF8.self).count + 1
        return Problem(line: line, column: column, message: message)
    }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func expect(_ character: Character) throws {
        guard index < bytes.count, bytes[index] == character.asciiValue! else { throw problem("expected `\(character)`, found \(found)") }
        index += 1
    }

    private mutating func value() throws {
        guard index < bytes.count else { throw problem("expected a value, found end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): try object()
        case UInt8(ascii: "["): try array()
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: throw problem("expected a value, found \(found)")
        }
    }

    private mutating func literal(_ word: String) throws {
        for character in word {
            guard index < bytes.count, bytes[index] == character.asciiValue! else { throw problem("expected `\(word)`, found \(found)") }
            index += 1
        }
    }

    private mutating func nest() throws {
        depth += 1
        if depth > 512 { throw problem("nested deeper than 512 levels") }
    }

    private mutating func object() throws {
        try nest()
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return
        }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw problem("expected a key in double quotes, found \(found)") }
            try string()
            skipSpace()
            try expect(":")
            skipSpace()
            try value()
            skipSpace()
            guard index < bytes.count else { throw problem("expected `,` or `}`, found end of input") }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                depth -= 1
                return
            }
            guard bytes[index] == UInt8(ascii: ",") else { throw problem("expected `,` or `}`, found \(found)") }
            index += 1
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { throw problem("trailing comma before `}`") }
        }
    }

    private mutating func array() throws {
        try nest()
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return
        }
        while true {
            skipSpace()
            try value()
            skipSpace()
            guard index < bytes.count else { throw problem("expected `,` or `]`, found end of input") }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                depth -= 1
                return
            }
            guard bytes[index] == UInt8(ascii: ",") else { throw problem("expected `,` or `]`, found \(found)") }
            index += 1
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { throw problem("trailing comma before `]`") }
        }
    }

    private mutating func string() throws {
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            if byte < 0x20 { throw problem("control character in a string (escape it, e.g. \\n)") }
            if byte == UInt8(ascii: "\\") {
                index += 1
                guard index < bytes.count else { break }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                    UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    for _ in 0..<4 {
                        guard index < bytes.count, (Character(UnicodeScalar(bytes[index]))).isHexDigit else { throw problem("expected 4 hex digits after \\u") }
                        index += 1
                    }
                default:
                    throw problem("unknown escape sequence in a string")
                }
                continue
            }
            index += 1
        }
        throw problem("unterminated string")
    }

    /// A number, which must also fit a double: `1e400` is valid JSON, but Foundation's parser refuses it, and the
    /// payload was "not valid JSON" with no position.
    private mutating func number() throws {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits() -> Int {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - start
        }
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { throw problem("expected a digit, found \(found)") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            _ = digits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw problem("expected a digit after `.`, found \(found)") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw problem("expected a digit in the exponent, found \(found)") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if let value = Double(text), !value.isFinite {
            index = start
            throw problem("the number \(text.count > 40 ? String(text.prefix(40)) + "…" : text) is out of range (beyond ±1.8e308)")
        }
    }
}
