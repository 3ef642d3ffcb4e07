import Foundation

/// Decodes a handler's payload from its JSON bytes without Foundation's `JSONDecoder` when the payload is of the
/// plain shape, and otherwise declines (nil) so the caller decodes with `JSONDecoder`.
///
/// Why: on the peers' workload (one `INCR` a job) `JSONDecoder().decode(_:from: Data(...))` was ~10 % of the
/// worker's CPU a job (issue 17) — its setup, the `Data` copy and its generic containers cost more than a small
/// payload's parsing. Why it may decline anything: the verdict users see (the value, or the dead-set reason naming
/// the field) must stay `JSONDecoder`'s. So this reader takes only a strict subset of JSON (RFC 8259 grammar;
/// strings with the simple escapes and `\u` escapes outside the surrogates; no duplicate keys; at most 64 deep),
/// gives only answers `JSONDecoder` gives for it, and declines everything else: any error, any type it does not
/// decode itself (`Date`, `Data`, `URL`, `Decimal`, `Float`, 128-bit integers, whose `JSONDecoder` rules are its
/// own), integers written with a fraction or exponent, numbers a `Double` cannot hold. A decline is remembered
/// even when the payload's own `init(from:)` catches the error (`try?`), so a fallback branch taken on this
/// reader's account never becomes the answer. Only a value of a kind JSONDecoder never converts (a string read
/// as a number, a missing key) throws without declining, as JSONDecoder throws there too: a payload that tries
/// one kind then another (an id as a number, else as a string) is read here, with JSONDecoder's result.
enum PlainPayloadDecoder {
    /// The payload decoded from `bytes[range]`, or ``Declined`` when `JSONDecoder` must decide. It throws rather than
    /// returning nil: no `T?` is made on the way, so a caller that is itself generic (``JobRegistry/register(_:)``'s
    /// closure) asks the runtime for no `Optional<T>` metadata a job (three lookups of ~325 instructions each,
    /// callgrind, session 12).
    static func value<T: Decodable>(_ type: T.Type, from bytes: [UInt8], range: Range<Int>) throws(Declined) -> T {
        let node: Node? = bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(bytes: UnsafeBufferPointer(rebasing: buffer[range]))
            return parser.document()
        }
        guard let node else { throw Declined() }
        let run = Run(root: node)
        let value: T
        do {
            value = try run.rootValue(as: T.self)
        } catch {
            throw Declined()
        }
        guard !run.declined else { throw Declined() }
        return value
    }

    /// A parsed JSON value. Numbers keep their text: each type reads it its own way, as `JSONDecoder` does.
    ///
    /// Not `indirect`: its arrays already hold their elements on the heap, and an indirect case boxed every value
    /// (two allocations a job for a one-member payload).
    enum Node {
        case object([(key: String, value: Node)])
        case array([Node])
        case string(String)
        case number(String)
        case bool(Bool)
        case null
    }

    /// Thrown (and remembered) when this reader declines.
    struct Declined: Error {}

    /// One decode's state: whether this reader declined at any point. It is also the decoder of the payload's top
    /// value, so that the usual payload (one object) needs no `any Decoder` box of its own.
    final class Run: Decoder {
        var declined = false
        let root: Node

        init(root: Node) { self.root = root }

        func decline() -> Declined {
            declined = true
            return Declined()
        }

        /// The payload's top value as `type`. The usual payload, one object, takes the first line; the rest is a
        /// function of its own because its `T?` made this one ask the runtime for `Optional<T>`'s metadata on entry,
        /// on every job (~330 instructions, callgrind, session 21).
        func rootValue<T: Decodable>(as type: T.Type) throws -> T {
            if case .object = root { return try T(from: self) }
            return try rootValueNotAnObject(as: type)
        }

        @inline(never)
        private func rootValueNotAnObject<T: Decodable>(as type: T.Type) throws -> T {
            if let value = try primitive(root, as: type) { return value }
            return try T(from: self)
        }

        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            try NodeDecoder(node: root, run: self, codingPath: []).container(keyedBy: type)
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try NodeDecoder(node: root, run: self, codingPath: []).unkeyedContainer()
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer {
            Single(node: root, run: self, codingPath: [])
        }

        func value<T: Decodable>(_ node: Node, as type: T.Type, path: @autoclosure () -> [any CodingKey]) throws -> T {
            if let value = try primitive(node, as: type) { return value }
            return try T(from: NodeDecoder(node: node, run: self, codingPath: path()))
        }

        /// `node` as `type` when this reader reads that type itself; nil for a type decoded by its own `init(from:)`.
        /// - Throws: a decline for the types whose `JSONDecoder` rules are their own.
        private func primitive<T: Decodable>(_ node: Node, as type: T.Type) throws -> T? {
            if type == String.self { return .some(try string(node) as! T) }
            if type == Int.self { return .some(try integer(node, as: Int.self) as! T) }
            if type == Bool.self { return .some(try bool(node) as! T) }
            if type == Double.self { return .some(try double(node) as! T) }
            if type == Int64.self { return .some(try integer(node, as: Int64.self) as! T) }
            if type == Int32.self { return .some(try integer(node, as: Int32.self) as! T) }
            if type == Int16.self { return .some(try integer(node, as: Int16.self) as! T) }
            if type == Int8.self { return .some(try integer(node, as: Int8.self) as! T) }
            if type == UInt.self { return .some(try integer(node, as: UInt.self) as! T) }
            if type == UInt64.self { return .some(try integer(node, as: UInt64.self) as! T) }
            if type == UInt32.self { return .some(try integer(node, as: UInt32.self) as! T) }
            if type == UInt16.self { return .some(try integer(node, as: UInt16.self) as! T) }
            if type == UInt8.self { return .some(try integer(node, as: UInt8.self) as! T) }
            // Types with JSONDecoder rules of their own (strategies, exact decimal parsing, range checks).
            if type == Float.self || type == Date.self || type == Data.self || type == URL.self || type == Decimal.self
                || type == Int128.self || type == UInt128.self
            {
                throw decline()
            }
            return nil
        }

        /// A kind JSONDecoder never converts (a string for a number, a number for a string, null, an object for an
        /// array, a missing key): JSONDecoder throws here too, so this throw is not a decline, and a payload whose
        /// own decoding tries one kind then another (`try? decode(Int64.self)`, then `String`) stays on this
        /// path. Its text is never shown: an error that leaves the payload's decoding is a decline (see `decode`).
        func mismatch(_ type: Any.Type) -> DecodingError {
            DecodingError.typeMismatch(type, DecodingError.Context(codingPath: [], debugDescription: "not of this kind"))
        }

        func string(_ node: Node) throws -> String {
            guard case .string(let text) = node else { throw mismatch(String.self) }
            return text
        }

        func bool(_ node: Node) throws -> Bool {
            guard case .bool(let flag) = node else { throw mismatch(Bool.self) }
            return flag
        }

        func double(_ node: Node) throws -> Double {
            guard case .number(let text) = node else { throw mismatch(Double.self) }
            guard let value = Double(text), value.isFinite else { throw decline() }
            // An underflow to zero (`1e-400`): JSONDecoder's call.
            if value == 0, text.utf8.contains(where: { (0x31...0x39).contains($0) }) { throw decline() }
            return value
        }

        /// Only an integer written as one (`-?[0-9]+`) that fits; `1.0`, `1e3` and overflow are JSONDecoder's call.
        func integer<I: FixedWidthInteger>(_ node: Node, as: I.Type) throws -> I {
            guard case .number(let text) = node else { throw mismatch(I.self) }
            let utf8 = text.utf8
            guard !utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
                I.isSigned || utf8.first != UInt8(ascii: "-"), let value = I(text)
            else { throw decline() }
            return value
        }
    }

    struct IndexKey: CodingKey {
        let index: Int
        init(index: Int) { self.index = index }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { index = intValue }
        var stringValue: String { "Index \(index)" }
        var intValue: Int? { index }
    }

    struct NodeDecoder: Decoder {
        let node: Node
        let run: Run
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard case .object(let members) = node else { throw run.mismatch([String: Node].self) }
            return KeyedDecodingContainer(Keyed<Key>(members: members, run: run, codingPath: codingPath))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            guard case .array(let elements) = node else { throw run.mismatch([Node].self) }
            return Unkeyed(elements: elements, run: run, codingPath: codingPath)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer {
            Single(node: node, run: run, codingPath: codingPath)
        }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [(key: String, value: Node)]
        let run: Run
        let codingPath: [any CodingKey]

        var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

        func contains(_ key: Key) -> Bool { find(key) != nil }

        private func find(_ key: Key) -> Node? {
            let name = key.stringValue
            for member in members where member.key == name { return member.value }
            return nil
        }

        private func member(_ key: Key) throws -> Node {
            guard let node = find(key) else {
                throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: codingPath, debugDescription: "missing"))
            }
            return node
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            guard let node = find(key) else { throw run.decline() }
            if case .null = node { return true }
            return false
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try run.bool(member(key)) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try run.string(member(key)) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try run.double(member(key)) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw run.decline() }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try run.integer(member(key), as: type) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try run.integer(member(key), as: type) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try run.integer(member(key), as: type) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try run.integer(member(key), as: type) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try run.integer(member(key), as: type) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try run.integer(member(key), as: type) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try run.integer(member(key), as: type) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try run.integer(member(key), as: type) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try run.integer(member(key), as: type) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try run.integer(member(key), as: type) }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try run.value(member(key), as: type, path: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            try NodeDecoder(node: member(key), run: run, codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try NodeDecoder(node: member(key), run: run, codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { throw run.decline() }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw run.decline() }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let elements: [Node]
        let run: Run
        let codingPath: [any CodingKey]
        var currentIndex = 0

        init(elements: [Node], run: Run, codingPath: [any CodingKey]) {
            self.elements = elements
            self.run = run
            self.codingPath = codingPath
        }

        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        private func current() throws -> Node {
            guard currentIndex < elements.count else { throw run.decline() }
            return elements[currentIndex]
        }

        mutating func decodeNil() throws -> Bool {
            guard case .null = try current() else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let index = currentIndex
            let value = try run.value(current(), as: type, path: codingPath + [IndexKey(index: index)])
            currentIndex += 1
            return value
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            let container = try NodeDecoder(node: current(), run: run, codingPath: codingPath + [IndexKey(index: currentIndex)])
                .container(keyedBy: type)
            currentIndex += 1
            return container
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let container = try NodeDecoder(node: current(), run: run, codingPath: codingPath + [IndexKey(index: currentIndex)])
                .unkeyedContainer()
            currentIndex += 1
            return container
        }

        mutating func superDecoder() throws -> any Decoder { throw run.decline() }
    }

    struct Single: SingleValueDecodingContainer {
        let node: Node
        let run: Run
        let codingPath: [any CodingKey]

        func decodeNil() -> Bool {
            if case .null = node { return true }
            return false
        }

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try run.value(node, as: type, path: codingPath) }
    }

    /// The strict subset of JSON this reader takes; nil for anything else.
    struct Parser: JSONByteCursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func document() -> Node? {
            skipSpace()
            guard let node = value(depth: 0) else { return nil }
            skipSpace()
            return index == bytes.count ? node : nil
        }

        mutating func value(depth: Int) -> Node? {
            guard depth < 64, index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return string().map(Node.string)
            case UInt8(ascii: "{"):
                index += 1
                skipSpace()
                var members: [(key: String, value: Node)] = []
                if take(UInt8(ascii: "}")) { return .object(members) }
                while true {
                    guard let key = string() else { return nil }
                    // A duplicate key: which one JSONDecoder keeps is its own choice.
                    if members.contains(where: { $0.key == key }) { return nil }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return nil }
                    skipSpace()
                    guard let member = value(depth: depth + 1) else { return nil }
                    members.append((key, member))
                    skipSpace()
                    if take(UInt8(ascii: ",")) {
                        skipSpace()
                        continue
                    }
                    return take(UInt8(ascii: "}")) ? .object(members) : nil
                }
            case UInt8(ascii: "["):
                index += 1
                skipSpace()
                var elements: [Node] = []
                if take(UInt8(ascii: "]")) { return .array(elements) }
                while true {
                    guard let element = value(depth: depth + 1) else { return nil }
                    elements.append(element)
                    skipSpace()
                    if take(UInt8(ascii: ",")) {
                        skipSpace()
                        continue
                    }
                    return take(UInt8(ascii: "]")) ? .array(elements) : nil
                }
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default:
                let start = index
                guard skipNumber() else { return nil }
                return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
            }
        }

        /// A string: valid UTF-8, no control characters, escapes `\" \\ \/ \b \f \n \r \t` and `\uXXXX` outside
        /// the surrogates (a pair's rules are JSONDecoder's).
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            let ascii = skipPlainRun()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return ascii ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
            case UInt8(ascii: "\\"): return escapedString(from: start)
            default: return nil  // a control character
            }
        }

        /// The rest of a string that has escapes, from its first content byte.
        private mutating func escapedString(from start: Int) -> String? {
            var scalars: [UInt8] = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return String(validating: scalars, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                    case UInt8(ascii: "b"): scalars.append(0x08)
                    case UInt8(ascii: "f"): scalars.append(0x0C)
                    case UInt8(ascii: "n"): scalars.append(0x0A)
                    case UInt8(ascii: "r"): scalars.append(0x0D)
                    case UInt8(ascii: "t"): scalars.append(0x09)
                    case UInt8(ascii: "u"):
                        guard index + 4 <= bytes.count else { return nil }
                        var code: UInt32 = 0
                        for offset in 0..<4 {
                            guard let digit = Self.hexValue(bytes[index + offset]) else { return nil }
                            code = code << 4 | digit
                        }
                        index += 4
                        guard let scalar = Unicode.Scalar(code) else { return nil }  // a surrogate
                        scalars.append(contentsOf: UTF8.encode(scalar)!)
                    default:
                        return nil
                    }
                case 0..<0x20:
                    return nil
                default:
                    scalars.append(byte)
                    index += 1
                }
            }
            return nil
        }

        static func hexValue(_ byte: UInt8) -> UInt32? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
            default: nil
            }
        }

    }
}
