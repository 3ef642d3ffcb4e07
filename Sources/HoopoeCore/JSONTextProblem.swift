/// The first thing in a JSON text that Foundation's `JSONDecoder` refuses, found by reading the text again: what it is,
/// the path of the value it is in, and its byte offset (counted from 0).
///
/// Why: the decoder says only "The given data was not valid JSON." at "the top level" for every such text (a leading
/// zero, `NaN`, trailing garbage, nesting past its limit, invalid UTF-8 or a lone surrogate in a string), and a string
/// it cannot read surfaced through ``JSONValue``'s fallbacks as "should be an object". A dead reason must name the
/// field and say what is wrong with it. Read only after the decoder refused a text, so it is written for clarity, not
/// speed; iterative, so a text nested 100,000 deep costs a loop, not the stack.
///
/// It reads what the decoder reads: RFC 8259's grammar (plus the one comma before a closing bracket the decoder takes,
/// `[1,]`), well-formed UTF-8 (no surrogates, no overlong forms), no lone `\uD800`–`\uDFFF` escape, and at most
/// ``maxDepth`` nested arrays and objects. A text it finds sound is returned with
/// its numbers (``Numbers``), for the one refusal it cannot see: a number that does not fit its field's type.
struct JSONTextProblem: Error, CustomStringConvertible {
    /// The deepest nesting of arrays and objects the decoder reads (513 levels are refused; checked on Swift 6.3.1).
    static let maxDepth = 512

    let description: String

    /// A number of a sound text, where it lies and the path of its value (`payload.amount`, `items[2]`).
    struct Number {
        let range: Range<Int>
        let path: String
    }

    /// The numbers of a text found sound, in text order (at most ``Numbers/limit``).
    struct Numbers {
        static let limit = 10_000
        var found: [Number] = []
    }

    /// The first problem in `bytes`, or the text's numbers when there is none.
    static func check(_ bytes: [UInt8]) -> Result<Numbers, JSONTextProblem> {
        var reader = Reader(bytes: bytes)
        if let problem = reader.read() { return .failure(problem) }
        return .success(reader.numbers)
    }

    /// A path component: an object's key (nil while the key itself is being read) or an array's index.
    private enum Frame {
        case object(key: String?)
        case array(index: Int)
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0
        var stack: [Frame] = []
        var numbers = Numbers()

        init(bytes: [UInt8]) { self.bytes = bytes }

        // MARK: The grammar

        mutating func read() -> JSONTextProblem? {
            skipSpace()
            guard index < bytes.count else { return problem("no JSON value (the text is empty)") }
            var expectingValue = true
            while true {
                if expectingValue {
                    if let problem = value() { return problem }
                    // `value()` opened a container with something in it: its first member or element is next.
                    if case .opened = lastValue { lastValue = .done; continue }
                    expectingValue = false
                    continue
                }
                skipSpace()
                guard let top = stack.last else {
                    return index < bytes.count ? problem("text after the end of the JSON value at byte \(index)") : nil
                }
                guard index < bytes.count else { return endedEarly() }
                switch (top, bytes[index]) {
                // One comma before the closing bracket is read as the decoder reads it: Foundation's accepts it (as a
                // convenience, not JSON; swift-corelibs-foundation#4682), so a text is never refused here for one the
                // decoder took, and the problem named is the one it refused.
                case (.object, UInt8(ascii: ",")):
                    index += 1
                    if closesAfterTrailingComma(UInt8(ascii: "}")) { continue }
                    if let problem = key() { return problem }
                    expectingValue = true
                case (.array(let position), UInt8(ascii: ",")):
                    index += 1
                    if closesAfterTrailingComma(UInt8(ascii: "]")) { continue }
                    stack[stack.count - 1] = .array(index: position + 1)
                    expectingValue = true
                case (.object, UInt8(ascii: "}")), (.array, UInt8(ascii: "]")):
                    index += 1
                    stack.removeLast()
                case (.object, _):
                    return problem("unexpected \(shown(at: index)) after \(path()) at byte \(index) (expected ',' or '}')")
                case (.array, _):
                    return problem("unexpected \(shown(at: index)) after \(path()) at byte \(index) (expected ',' or ']')")
                }
            }
        }

        /// After a member's comma: takes the spaces and `close` when it is next, and closes the container.
        private mutating func closesAfterTrailingComma(_ close: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == close else { return false }
            index += 1
            stack.removeLast()
            return true
        }

        private enum LastValue { case done, opened }
        private var lastValue = LastValue.done

        /// Reads one value at `index`; a container is opened (pushed) and, when empty, closed again.
        private mutating func value() -> JSONTextProblem? {
            skipSpace()
            guard index < bytes.count else { return endedEarly() }
            let start = index
            switch bytes[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard stack.count < JSONTextProblem.maxDepth else {
                    return problem("nesting deeper than \(JSONTextProblem.maxDepth) levels at byte \(index)")
                }
                let isObject = bytes[index] == UInt8(ascii: "{")
                index += 1
                skipSpace()
                if index < bytes.count, bytes[index] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    index += 1
                    return nil
                }
                stack.append(isObject ? .object(key: nil) : .array(index: 0))
                if isObject, let problem = firstKey() { return problem }
                lastValue = .opened
                return nil
            case UInt8(ascii: "\""):
                return string(isKey: false).problem
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                if let problem = number() { return problem }
                if numbers.found.count < Numbers.limit { numbers.found.append(Number(range: start..<index, path: path())) }
                return nil
            case UInt8(ascii: "+"):
                return problem("\(subjectPrefix())a number with a plus sign at byte \(index)")
            case UInt8(ascii: "."):
                return problem("\(subjectPrefix())a number without a digit before its point at byte \(index)")
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                var end = index
                while end < bytes.count, end - index < 20, Self.isWordByte(bytes[end]) { end += 1 }
                let word = String(decoding: bytes[index..<end], as: UTF8.self)
                if ["true", "false", "null"].contains(word) {
                    index = end
                    return nil
                }
                // Named only when it is one of the usual non-JSON literals: another unquoted word may be a secret's
                // value (`"password":hunter2`), and a dead reason is stored, logged and sent in `job.dead` as it is.
                let named = Self.shownWords.contains(word) ? "'\(word)'" : "an unquoted word"
                return problem("\(subjectPrefix())\(named) is not a JSON value (JSON has only true, false and null) at byte \(index)")
            default:
                return problem("\(subjectPrefix())unexpected \(shown(at: index)) at byte \(index) (expected a value)")
            }
        }

        /// The first key of an object just opened (its `{` and the spaces after it taken).
        private mutating func firstKey() -> JSONTextProblem? {
            guard index < bytes.count else { return endedEarly() }
            return memberKey()
        }

        /// A key after a `,`, then its `:`.
        private mutating func key() -> JSONTextProblem? {
            skipSpace()
            guard index < bytes.count else { return endedEarly() }
            return memberKey()
        }

        private mutating func memberKey() -> JSONTextProblem? {
            stack[stack.count - 1] = .object(key: nil)
            guard bytes[index] == UInt8(ascii: "\"") else {
                return problem("\(subjectPrefix(parent: true))unexpected \(shown(at: index)) at byte \(index) (expected a key in quotes)")
            }
            let read = string(isKey: true)
            if let problem = read.problem { return problem }
            stack[stack.count - 1] = .object(key: read.text ?? "")
            skipSpace()
            guard index < bytes.count else { return endedEarly() }
            guard bytes[index] == UInt8(ascii: ":") else {
                return problem("\(subjectPrefix(parent: true))unexpected \(shown(at: index)) at byte \(index) (expected ':' after a key)")
            }
            index += 1
            return nil
        }

        /// A string at `index` (its opening quote). Its text is kept for a key (a path component), raw: escapes as
        /// written, cut to 40 characters.
        private mutating func string(isKey: Bool) -> (text: String?, problem: JSONTextProblem?) {
            let start = index
            index += 1
            // The subject of a problem: the key's object (`a key in payload`), or the string's own path.
            func subject() -> String {
                isKey ? "a key in \(path(parent: true).isEmpty ? "the top-level object" : path(parent: true))" : self.subject()
            }
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    let text = isKey ? EnvelopeRules.quoted(String(decoding: bytes[(start + 1)..<(index - 1)], as: UTF8.self), quote: "") : nil
                    return (text, nil)
                case UInt8(ascii: "\\"):
                    let escape = index
                    guard index + 1 < bytes.count else { return (nil, endedEarly()) }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 2
                    case UInt8(ascii: "u"):
                        guard let unit = hex4(at: index + 2) else {
                            return (nil, problem("\(subject()) holds an invalid \\u escape at byte \(escape)"))
                        }
                        index += 6
                        if (0xDC00...0xDFFF).contains(unit) {
                            return (nil, problem(loneSurrogate(subject(), at: escape)))
                        }
                        if (0xD800...0xDBFF).contains(unit) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                                let low = hex4(at: index + 2), (0xDC00...0xDFFF).contains(low)
                            else {
                                return (nil, problem(loneSurrogate(subject(), at: escape)))
                            }
                            index += 6
                        }
                    default:
                        return (nil, problem("\(subject()) holds an invalid escape at byte \(escape)"))
                    }
                case 0x00..<0x20:
                    return (nil, problem("\(subject()) holds an unescaped control character at byte \(index)"))
                case 0x80...:
                    guard let length = Self.scalarLength(bytes, at: index) else {
                        return (nil, problem("\(subject()) is not valid UTF-8 text (byte \(index))"))
                    }
                    index += length
                default:
                    index += 1
                }
            }
            return (nil, endedEarly())
        }

        /// A number at `index` per RFC 8259.
        private mutating func number() -> JSONTextProblem? {
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, Self.isDigit(bytes[index]) else {
                return problem("\(subjectPrefix())a number with no digits after its '-' at byte \(start)")
            }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if index < bytes.count, Self.isDigit(bytes[index]) {
                    return problem("\(subjectPrefix())a number with a leading zero at byte \(start)")
                }
            } else {
                while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, Self.isDigit(bytes[index]) else {
                    return problem("\(subjectPrefix())a number with no digits after its point at byte \(start)")
                }
                while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard index < bytes.count, Self.isDigit(bytes[index]) else {
                    return problem("\(subjectPrefix())a number with no digits in its exponent at byte \(start)")
                }
                while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            }
            return nil
        }

        // MARK: Wording

        private func problem(_ text: String) -> JSONTextProblem { JSONTextProblem(description: text) }

        /// `payload.name holds a lone surrogate escape \ud800 at byte 70 (…)`: the escape as written (six ASCII bytes, its
        /// four hex digits read already), and what is wrong with it, for a sender who never heard of surrogates.
        private func loneSurrogate(_ subject: String, at escape: Int) -> String {
            let written = String(decoding: bytes[escape..<(escape + 6)], as: UTF8.self)
            return "\(subject) holds a lone surrogate escape \(written) at byte \(escape) (half of a UTF-16 surrogate pair without its other half: it stands for no character)"
        }

        private func endedEarly() -> JSONTextProblem {
            let open = stack.last.map { if case .object = $0 { "an object" } else { "an array" } } ?? "a value"
            return problem("the text ends at byte \(bytes.count) inside \(open)\(path(parent: true).isEmpty ? "" : " (\(path(parent: true)))")")
        }

        /// The path of the value being read (`payload.items[2]`); `parent: true`, of its container.
        private func path(parent: Bool = false) -> String {
            var text = ""
            for (position, frame) in stack.enumerated() {
                switch frame {
                case .object(let key?) where !(parent && position == stack.count - 1):
                    text += text.isEmpty ? key : ".\(key)"
                case .array(let index) where !(parent && position == stack.count - 1):
                    text += "[\(index)]"
                default:
                    break
                }
            }
            return text
        }

        private func subject() -> String {
            let path = path()
            return path.isEmpty ? "the top-level value" : path
        }

        private func subjectPrefix(parent: Bool = false) -> String {
            let path = path(parent: parent)
            return path.isEmpty ? "" : "\(path): "
        }

        /// A byte as a person reads it: `'x'` when printable ASCII, else its hex value.
        private func shown(at offset: Int) -> String {
            let byte = bytes[offset]
            return (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16, uppercase: true))"
        }

        // MARK: Bytes

        private mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        private func hex4(at offset: Int) -> Int? {
            guard offset + 4 <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[offset..<(offset + 4)] {
                guard let digit = Int(String(Unicode.Scalar(byte)), radix: 16) else { return nil }
                value = value * 16 + digit
            }
            return value
        }

        private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

        /// The unquoted words a dead reason names: other languages' literals a sender writes by mistake. Any other word is
        /// described, not quoted (it may be a secret's value).
        static let shownWords: Set<String> = ["NaN", "nan", "Infinity", "infinity", "inf", "None", "True", "False", "NULL", "Null", "undefined", "nil"]

        private static func isWordByte(_ byte: UInt8) -> Bool {
            isDigit(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_")
        }

        /// The length of the well-formed UTF-8 sequence at `offset` (its first byte at least 0x80), or nil: Unicode's
        /// table 3-7, so overlong forms (`C0 AF`), surrogates (`ED A0 80`, CESU-8) and values past U+10FFFF are refused.
        static func scalarLength(_ bytes: [UInt8], at offset: Int) -> Int? {
            let lead = bytes[offset]
            let length: Int
            var second: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; second = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; second = 0x80...0x9F
            case 0xF0: length = 4; second = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; second = 0x80...0x8F
            default: return nil
            }
            guard offset + length <= bytes.count, second.contains(bytes[offset + 1]) else { return nil }
            for next in (offset + 2)..<(offset + length) where !(0x80...0xBF).contains(bytes[next]) { return nil }
            return length
        }
    }
}
