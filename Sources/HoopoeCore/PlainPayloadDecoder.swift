import Foundation

/// Decodes a handler's payload from its JSON bytes without Foundation's `JSONDecoder` when the payload is of the
/// plain shape, and otherwise declines (nil) so the caller decodes with `JSONDecoder`.
///
/// Why: on the peers' workload (one `INCR` a job) `JSONDecoder().decode(_:from: Data(...))` was ~10 % of the
/// worker's CPU a job (issue 17) — its setup, the `Data` copy and its generic containers cost more than a small
/// payload's parsing. Why it may decline anything: the verdict users see (the value, or the dead-set reason naming
/// the field) must stay `JSONDecoder`'s. So this reader takes only a strict subset of JSON (RFC 8259 grammar;
/// strings with the simple escapes and `\u` escapes outside the surrogates; object keys in ASCII without escapes,
/// none twice; at most 64 deep), gives only answers `JSONDecoder` gives for it, and declines everything else: any
/// error, any type it does not decode itself (`Date`, `Data`, `URL`, `Decimal`, `Float`, 128-bit integers, whose
/// `JSONDecoder` rules are its own), integers written with a fraction or exponent, numbers a `Double` cannot hold.
/// A decline is remembered even when the payload's own `init(from:)` catches the error (`try?`), so a fallback branch
/// taken on this reader's account never becomes the answer. Only a value of a kind JSONDecoder never converts (a
/// string read as a number, a missing key) throws without declining, as JSONDecoder throws there too: a payload that
/// tries one kind then another (an id as a number, else as a string) is read here, with JSONDecoder's result.
enum PlainPayloadDecoder {
    /// The payload decoded from `bytes[range]`, or ``Declined`` when `JSONDecoder` must decide. It throws rather than
    /// returning nil: no `T?` is made on the way, so a caller that is itself generic (``JobRegistry/register(_:)``'s
    /// closure) asks the runtime for no `Optional<T>` metadata a job (three lookups of ~325 instructions each,
    /// callgrind, session 12).
    static func value<T: Decodable>(_ type: T.Type, from bytes: [UInt8], range: Range<Int>) throws(Declined) -> T {
        let root: Node? = bytes.withUnsafeBufferPointer { buffer in
            var checker = Checker(bytes: UnsafeBufferPointer(rebasing: buffer[range]))
            return checker.document()
        }
        guard let root else { throw Declined() }
        let run = Run(bytes: bytes, payload: range, root: root)
        let value: T
        do {
            value = try run.rootValue(as: T.self)
        } catch {
            throw Declined()
        }
        guard !run.declined else { throw Declined() }
        return value
    }

    /// A JSON value of the payload, checked by ``Checker``: its kind and where its text lies in the payload's bytes.
    /// A value is made from its text only when the payload's decoding asks for it, and an object's members are found
    /// by reading the object again: no tree is built. (A tree of members, `[(key: String, value: Node)]`, cost
    /// ~1,700 instructions a job for a one-member payload, callgrind, session 27: its arrays, the key strings, and
    /// destroying the tuples through their metadata.)
    struct Node {
        enum Kind { case object, array, string, number, bool, null }
        let kind: Kind
        /// The value's text, a string's with its quotes, as offsets into the payload's bytes.
        let range: Range<Int>
        /// A string with a backslash in it (its text is unescaped when read); false for anything else.
        var escaped = false
    }

    /// Thrown (and remembered) when this reader declines.
    struct Declined: Error {}

    /// One decode's state: whether this reader declined at any point, and the payload's bytes its nodes point into.
    /// It is also the decoder of the payload's top value, so that the usual payload (one object) needs no
    /// `any Decoder` box of its own.
    final class Run: Decoder {
        var declined = false
        /// The envelope's bytes, held (not copied); the payload is `payload` of them.
        let bytes: [UInt8]
        let payload: Range<Int>
        let root: Node

        init(bytes: [UInt8], payload: Range<Int>, root: Node) {
            self.bytes = bytes
            self.payload = payload
            self.root = root
        }

        func decline() -> Declined {
            declined = true
            return Declined()
        }

        /// The payload's top value as `type`. The usual payload, one object, takes the first line; the rest is a
        /// function of its own because its `T?` made this one ask the runtime for `Optional<T>`'s metadata on entry,
        /// on every job (~330 instructions, callgrind, session 21).
        func rootValue<T: Decodable>(as type: T.Type) throws -> T {
            if root.kind == .object { return try T(from: self) }
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

        /// The payload's bytes, for reading the checked text of its nodes.
        @inline(__always)
        func reading<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
            try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[payload])) }
        }

        func string(_ node: Node) throws -> String {
            guard node.kind == .string else { throw mismatch(String.self) }
            let text: String? = reading { payload in
                let contents = node.range.lowerBound + 1..<node.range.upperBound - 1
                guard node.escaped else { return String(decoding: UnsafeBufferPointer(rebasing: payload[contents]), as: UTF8.self) }
                var index = contents.lowerBound
                return Checker.unescaped(payload, from: contents.lowerBound, index: &index)
            }
            guard let text else { throw decline() }  // checked already: not reached
            return text
        }

        func bool(_ node: Node) throws -> Bool {
            guard node.kind == .bool else { throw mismatch(Bool.self) }
            return reading { $0[node.range.lowerBound] == UInt8(ascii: "t") }
        }

        /// A number's text, as JSONDecoder reads it.
        private func numberText(_ node: Node) -> String {
            reading { String(decoding: UnsafeBufferPointer(rebasing: $0[node.range]), as: UTF8.self) }
        }

        func double(_ node: Node) throws -> Double {
            guard node.kind == .number else { throw mismatch(Double.self) }
            let text = numberText(node)
            guard let value = Double(text), value.isFinite else { throw decline() }
            // An underflow to zero (`1e-400`): JSONDecoder's call.
            if value == 0, text.utf8.contains(where: { (0x31...0x39).contains($0) }) { throw decline() }
            return value
        }

        /// Only an integer written as one (`-?[0-9]+`) that fits; `1.0`, `1e3` and overflow are JSONDecoder's call.
        func integer<I: FixedWidthInteger>(_ node: Node, as: I.Type) throws -> I {
            guard node.kind == .number else { throw mismatch(I.self) }
            let text = numberText(node)
            let utf8 = text.utf8
            guard !utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
                I.isSigned || utf8.first != UInt8(ascii: "-"), let value = I(text)
            else { throw decline() }
            return value
        }

        /// The member of `object` named `name`, read from the object's checked text.
        func member(named name: String, in object: Node) -> Node? {
            reading { payload in
                var reader = Reader(bytes: payload, index: object.range.lowerBound)
                var nameIsASCII: Bool?
                while let member = reader.nextMember() {
                    let keyBytes = UnsafeBufferPointer(rebasing: payload[member.key])
                    if name.utf8Equals(keyBytes) { return member.value }
                    // Equal bytes are equal strings, but `String`'s `==` (which JSONDecoder's dictionary of members
                    // uses) is canonical equivalence: an ASCII key can equal a name that is not ASCII (the Kelvin sign
                    // U+212A is "K"). The checker let only ASCII keys through.
                    if nameIsASCII == nil { nameIsASCII = name.utf8.allSatisfy { $0 < 0x80 } }
                    if nameIsASCII == false, String(decoding: keyBytes, as: UTF8.self) == name { return member.value }
                }
                return nil
            }
        }

        /// The names of `object`'s members, in order.
        func keys(of object: Node) -> [String] {
            reading { payload in
                var reader = Reader(bytes: payload, index: object.range.lowerBound)
                var keys: [String] = []
                while let member = reader.nextMember() {
                    keys.append(String(decoding: UnsafeBufferPointer(rebasing: payload[member.key]), as: UTF8.self))
                }
                return keys
            }
        }

        /// `array`'s elements, in order.
        func elements(of array: Node) -> [Node] {
            reading { payload in
                var reader = Reader(bytes: payload, index: array.range.lowerBound)
                var elements: [Node] = []
                while let element = reader.nextElement() { elements.append(element) }
                return elements
            }
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
            guard node.kind == .object else { throw run.mismatch([String: Node].self) }
            return KeyedDecodingContainer(Keyed<Key>(object: node, run: run, codingPath: codingPath))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            guard node.kind == .array else { throw run.mismatch([Node].self) }
            return Unkeyed(elements: run.elements(of: node), run: run, codingPath: codingPath)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer {
            Single(node: node, run: run, codingPath: codingPath)
        }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let object: Node
        let run: Run
        let codingPath: [any CodingKey]

        var allKeys: [Key] { run.keys(of: object).compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { find(key) != nil }

        private func find(_ key: Key) -> Node? { run.member(named: key.stringValue, in: object) }

        private func member(_ key: Key) throws -> Node {
            guard let node = find(key) else {
                throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: codingPath, debugDescription: "missing"))
            }
            return node
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            guard let node = find(key) else { throw run.decline() }
            return node.kind == .null
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
            guard try current().kind == .null else { return false }
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

        func decodeNil() -> Bool { node.kind == .null }

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try run.value(node, as: type, path: codingPath) }
    }

    /// Checks that the payload is of the strict subset of JSON this reader takes, in one pass that makes nothing; nil
    /// for anything else. Beyond the grammar: strings are valid UTF-8 with only the escapes listed at ``unescaped``,
    /// values nest at most 64 deep, and an object's keys are ASCII without escapes and differ (byte for byte, which for
    /// ASCII is what `String`'s `==` says), so that ``Run/member(named:in:)`` can find a member by its key's bytes.
    struct Checker: JSONByteCursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        /// The keys of the objects being checked, innermost last: a duplicate is looked for among its own object's.
        /// An object's first key goes in only when a second comes, so one-member objects never fill it.
        private var keys: [Range<Int>] = []

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// The most members an object may have here. A member is found by reading its object from the start, so
        /// decoding every member of an object of n costs ~n²/2 steps over members (~50 instructions each): at 32, about
        /// what JSONDecoder's own reading costs; a larger object (a big map) is JSONDecoder's, which reads it in one pass.
        static let maxMembers = 32

        /// The payload's top value, when the whole payload is of the subset.
        mutating func document() -> Node? {
            skipSpace()
            guard let node = value(depth: 0) else { return nil }
            skipSpace()
            return index == bytes.count ? node : nil
        }

        private mutating func value(depth: Int) -> Node? {
            guard depth < 64, index < bytes.count else { return nil }
            let start = index
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let shape = string() else { return nil }
                return Node(kind: .string, range: start..<index, escaped: shape == .escaped)
            case UInt8(ascii: "{"):
                index += 1
                skipSpace()
                if take(UInt8(ascii: "}")) { return Node(kind: .object, range: start..<index) }
                let base = keys.count
                var first: Range<Int>?
                var members = 0
                while true {
                    members += 1
                    guard members <= Self.maxMembers else { return nil }
                    let keyStart = index + 1
                    // A key with an escape or beyond ASCII: JSONDecoder's to match (see the type's comment).
                    guard string() == .ascii else { return nil }
                    let key = keyStart..<index - 1
                    if let first {
                        if keys.count == base { keys.append(first) }
                        // A duplicate key: which one JSONDecoder keeps is its own choice.
                        for other in keys[base...] where Self.same(other, key, in: bytes) { return nil }
                        keys.append(key)
                    } else {
                        first = key
                    }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return nil }
                    skipSpace()
                    guard value(depth: depth + 1) != nil else { return nil }
                    skipSpace()
                    if take(UInt8(ascii: ",")) {
                        skipSpace()
                        continue
                    }
                    if keys.count > base { keys.removeSubrange(base...) }  // an empty array made unique allocates
                    return take(UInt8(ascii: "}")) ? Node(kind: .object, range: start..<index) : nil
                }
            case UInt8(ascii: "["):
                index += 1
                skipSpace()
                if take(UInt8(ascii: "]")) { return Node(kind: .array, range: start..<index) }
                while true {
                    guard value(depth: depth + 1) != nil else { return nil }
                    skipSpace()
                    if take(UInt8(ascii: ",")) {
                        skipSpace()
                        continue
                    }
                    return take(UInt8(ascii: "]")) ? Node(kind: .array, range: start..<index) : nil
                }
            case UInt8(ascii: "t"): return literal("true") ? Node(kind: .bool, range: start..<index) : nil
            case UInt8(ascii: "f"): return literal("false") ? Node(kind: .bool, range: start..<index) : nil
            case UInt8(ascii: "n"): return literal("null") ? Node(kind: .null, range: start..<index) : nil
            default:
                guard skipNumber() else { return nil }
                return Node(kind: .number, range: start..<index)
            }
        }

        enum StringShape { case ascii, unicode, escaped }

        /// Whether two ranges of `bytes` hold the same bytes.
        @inline(__always)
        static func same(_ first: Range<Int>, _ second: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            first.count == second.count && memcmp(bytes.baseAddress! + first.lowerBound, bytes.baseAddress! + second.lowerBound, first.count) == 0
        }

        /// Checks a string and takes it, closing quote included; nil when it is not of the subset.
        private mutating func string() -> StringShape? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            let ascii = skipPlainRun()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if ascii { return .ascii }
                return Self.validUTF8(raw) ? .unicode : nil  // checked in place: the decoder makes the string if asked
            case UInt8(ascii: "\\"):
                return Self.unescaped(bytes, from: start, index: &index) == nil ? nil : .escaped
            default: return nil  // a control character
            }
        }

        /// The text of a string with escapes: its contents from `start`, read on from `index` (a later byte of them:
        /// the bytes between are plain) to the closing quote, after which `index` is left. Valid UTF-8, no control
        /// characters, escapes `\" \\ \/ \b \f \n \r \t` and `\uXXXX` outside the surrogates (a pair's rules are
        /// JSONDecoder's); nil for anything else. The checker runs it to check; the decoder again, to read.
        static func unescaped(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, index: inout Int) -> String? {
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
                            guard let digit = hexValue(bytes[index + offset]) else { return nil }
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

    /// Walks the members of an object or the elements of an array whose text ``Checker`` has checked, from its opening
    /// bracket: it only finds where each value ends, trusting the grammar.
    struct Reader: JSONByteCursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index: Int

        /// The next member's key (its contents) and value; nil after the last.
        mutating func nextMember() -> (key: Range<Int>, value: Node)? {
            guard next() else { return nil }
            let keyStart = index + 1
            _ = skipString()
            let key = keyStart..<index - 1
            skipSpace()
            index += 1  // the colon
            skipSpace()
            return (key, node())
        }

        /// The next element; nil after the last.
        mutating func nextElement() -> Node? {
            guard next() else { return nil }
            return node()
        }

        /// Steps over the opening bracket or the comma after the last value, to the next value; false at the end.
        private mutating func next() -> Bool {
            switch bytes[index] {
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                return false
            default:  // `{`, `[` or `,`
                index += 1
                skipSpace()
                let byte = bytes[index]
                return byte != UInt8(ascii: "}") && byte != UInt8(ascii: "]")
            }
        }

        /// The value that starts here, taken with the whitespace after it.
        private mutating func node() -> Node {
            let start = index
            let kind: Node.Kind
            var escaped = false
            switch bytes[index] {
            case UInt8(ascii: "\""):
                kind = .string
                escaped = skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                kind = bytes[index] == UInt8(ascii: "{") ? .object : .array
                skipNested()
            case UInt8(ascii: "t"):
                kind = .bool
                index += 4
            case UInt8(ascii: "f"):
                kind = .bool
                index += 5
            case UInt8(ascii: "n"):
                kind = .null
                index += 4
            default:
                kind = .number
                _ = skipNumber()
            }
            let node = Node(kind: kind, range: start..<index, escaped: escaped)
            skipSpace()
            return node
        }

        /// Takes a string, quotes included; whether it had an escape.
        private mutating func skipString() -> Bool {
            index += 1
            var escaped = false
            while true {
                _ = skipPlainRun()
                if bytes[index] == UInt8(ascii: "\"") {
                    index += 1
                    return escaped
                }
                escaped = true
                index += 2  // a backslash and the byte after it (a `\u`'s four hex digits are plain)
            }
        }

        /// Takes an object or array, brackets included.
        private mutating func skipNested() {
            var depth = 0
            repeat {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    _ = skipString()
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
                index += 1
            } while depth > 0
        }
    }
}
