import Foundation

@testable import HoopoeCore

/// A fixed-seed source of random numbers (SplitMix64): the same seed makes the same envelopes on every run, so
/// a failure found once is found again.
typealias SeededRandom = SplitMix64

/// Envelopes as other services might write them: valid ones, ones broken in one known way, and random ones
/// (boundary numbers, odd strings and Unicode, deep nesting, duplicate keys, broken JSON).
struct EnvelopeGenerator {
    var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    /// One field: its key and its JSON text (as bytes: some are deliberately not valid UTF-8).
    typealias Field = (key: String, value: [UInt8])

    static func text(_ string: String) -> [UInt8] { Array(string.utf8) }
    static func quoted(_ string: String) -> [UInt8] { Array(("\"" + string + "\"").utf8) }

    /// Number texts at and around every limit, and past what `Int` and `Double` hold.
    static let numbers: [[UInt8]] = [
        "0", "-1", "1", "2", "25", "1000", "1001", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "100000000000000000", "99999999999999999999999", "1e308", "-1e308", "1e400", "-1e400", "1.5", "0.0", "-0", "1e-300",
        "86400", "86400.0001", "0.001", "1e11", "99999999999", "1795400000.5", "1795400000123", "2.5e9", "1E2", "3.0",
        "2592000", "2592001",
        // Longer than `JSONNumberLength.maxCharacters`: Foundation's decoder traps reading the first into an integer.
        "9007199254740993" + String(repeating: "0", count: 200) + "e-200", "1" + String(repeating: "0", count: 100),
    ].map(text)
    /// Not JSON numbers at all (the reader must refuse them, not trap).
    static let notNumbers: [[UInt8]] = ["NaN", "Infinity", "-Infinity", "0x10", "01", "1e", "-", ".5", "+1", "1.", "1_000"].map(text)

    static let strings: [[UInt8]] = [
        quoted(""), quoted("a"), quoted("a b"), quoted("a/b"), quoted(".."), quoted(".x"), quoted("a..b"), quoted("{q}"),
        quoted("q-1_ok.x"), quoted(String(repeating: "a", count: 64)), quoted(String(repeating: "a", count: 65)),
        quoted(String(repeating: "i", count: 128)), quoted(String(repeating: "i", count: 129)), quoted(String(repeating: "u", count: 201)),
        quoted("مریم"), quoted(#"\u0000"#), quoted(#"\ud800"#), quoted(#"\udc00\ud800"#), quoted(#"\ud83d\udc26"#), quoted("🐦"),
        quoted(#"x\ny"#), quoted(#"ends-in-newline\n"#), quoted(#"\u00e9"#), quoted(#"tab\there"#), quoted(#"esc\"aped"#), quoted(#"\u0041BC"#),
        quoted("e\u{301}"), quoted("\u{202E}rtl"), quoted(String(repeating: "x", count: 10_000)),
        quoted("01HQ0R4T5Y6Z7A8B9C0D1E2F3G"), quoted("550e8400-e29b-41d4-a716-446655440000"), quoted("tick:2026-11-30T04:00"),
        [0x22, 0x01, 0x22],  // a raw control character: not JSON
        [0x22, 0xFF, 0xFE, 0x22],  // not UTF-8
        [0x22, 0xC3, 0x22],  // a cut UTF-8 sequence
        quoted("unterminated\\"),
    ]

    static let others: [[UInt8]] = ["true", "false", "null", "[]", "{}", "[1,[2,[3]]]", #"{"a":{"b":[null]}}"#, #""0""#, #""1""#].map(text)

    static func nested(_ depth: Int, array: Bool) -> [UInt8] {
        array
            ? text(String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth))
            : text(String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth))
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    /// Any value: mostly boundary numbers and odd strings, sometimes deep or broken.
    mutating func anyValue() -> [UInt8] {
        switch random.next() % 20 {
        case 0..<8: return pick(Self.numbers)
        case 8..<14: return pick(Self.strings)
        case 14..<17: return pick(Self.others)
        case 17: return pick(Self.notNumbers)
        case 18: return Self.nested(pick([3, 63, 64, 65, 200, 600]), array: chance(50))
        default: return payload()
        }
    }

    /// A payload: usually an object of a few members with any values.
    mutating func payload() -> [UInt8] {
        if chance(10) { return pick(Self.others + Self.numbers.prefix(4) + Self.strings.prefix(3)) }
        var members: [[UInt8]] = []
        for _ in 0..<Int(random.next() % 4) {
            let key = pick(["k", "member", "phone", "n", "نام", #"\u0000"#, "a b", ""])
            let value: [UInt8] = chance(70) ? pick(Self.numbers + Self.strings + Self.others) : Self.nested(pick([2, 10, 70]), array: chance(50))
            members.append(Self.quoted(key) + Self.text(":") + value)
        }
        return Self.text("{") + Array(members.joined(separator: Self.text(","))) + Self.text("}")
    }

    /// The fields of a valid envelope of `type` (the optional ones present at random).
    mutating func validFields(id: String, type: String, payload: [UInt8]) -> [Field] {
        var fields: [Field] = [("id", Self.quoted(id)), ("type", Self.quoted(type)), ("payload", payload)]
        if chance(50) { fields.append(("queue", Self.quoted("default"))) }
        // A valid envelope has an attempt left: one whose `attempt` is at its `max_attempts` (or the handler's 25) is
        // buried unrun (PROTOCOL.md), so the limit drawn is above the attempt drawn.
        var attempt = 0
        if chance(50) {
            let text = pick(["0", "1", "3", "999", "2.0"])
            attempt = Int(Double(text)!)
            fields.append(("attempt", Self.text(text)))
        }
        if attempt >= 25 {
            fields.append(("max_attempts", Self.text("1000")))
        } else if chance(40) {
            fields.append(("max_attempts", Self.text(pick(["1", "5", "25", "1000", "null"].filter { $0 == "null" || Int($0)! > attempt }))))
        }
        if chance(40) { fields.append(("timeout", Self.text(pick(["30", "0.5", "86400", "null", "300"])))) }
        if chance(60) { fields.append(("enqueued_at", Self.text(pick(["1795400000.25", "0", "1795400000", "99999999999.9"])))) }
        if chance(20) { fields.append(("run_at", Self.text(pick(["null", "0", "1795400000.5"])))) }
        if chance(20) { fields.append(("unique_key", Self.text(pick([#""u-1""#, "null", #""key:with:colons""#])))) }
        if chance(10) { fields.append(("unique_for", Self.text(pick(["60", "null", "2592000"])))) }
        if chance(10) { fields.append(("last_error", Self.quoted(#"boom \"quoted\" \u00e9"#))) }
        return fields
    }

    /// Writes `fields` as a JSON object, with random spacing and order.
    mutating func render(_ fields: [Field], shuffle: Bool = true) -> [UInt8] {
        var list = fields
        if shuffle && chance(30) { list.shuffle(using: &random) }
        let space = chance(20) ? Self.text(pick([" ", "\n", "\t", "  \r\n"])) : []
        var out = Self.text("{") + space
        for (index, field) in list.enumerated() {
            if index > 0 { out += Self.text(",") + space }
            out += Self.quoted(field.key) + space + Self.text(":") + space + field.value
        }
        return out + space + Self.text("}")
    }

    /// Every way a field is known to break the envelope rules, by name. Each makes a valid envelope invalid.
    static let breakages: [(name: String, key: String, value: String)] = [
        ("attempt -1", "attempt", "-1"), ("attempt 1001", "attempt", "1001"), ("attempt as a string", "attempt", #""0""#),
        ("attempt 1.5", "attempt", "1.5"), ("attempt 1e308", "attempt", "1e308"), ("attempt Int.max", "attempt", "9223372036854775807"),
        ("attempt 1e17", "attempt", "100000000000000000"), ("max_attempts 0", "max_attempts", "0"),
        ("max_attempts 1e17", "max_attempts", "100000000000000000"), ("max_attempts Int.max", "max_attempts", "9223372036854775807"),
        ("timeout -5", "timeout", "-5"), ("timeout 0", "timeout", "0"), ("timeout 1e308", "timeout", "1e308"),
        ("timeout 1e17", "timeout", "100000000000000000"), ("timeout 86401", "timeout", "86401"), ("timeout 1e400", "timeout", "1e400"),
        ("timeout as a string", "timeout", #""30""#), ("queue with /", "queue", #""a/b""#), ("queue ..", "queue", #""a..b""#),
        ("queue with braces", "queue", #""{x}""#), ("queue starting with .", "queue", #"".x""#),
        ("queue of 65", "queue", "\"" + String(repeating: "q", count: 65) + "\""), ("id with a space", "id", #""a b""#),
        ("id empty", "id", #""""#), ("id of 129", "id", "\"" + String(repeating: "i", count: 129) + "\""), ("id a number", "id", "7"),
        ("type with a space", "type", #""diag record""#), ("type empty", "type", #""""#),
        ("enqueued_at in ms", "enqueued_at", "1795400000123"), ("enqueued_at -1", "enqueued_at", "-1"),
        ("run_at in ms", "run_at", "1795400000123"), ("unique_key empty", "unique_key", #""""#),
        ("unique_key with a control character", "unique_key", #""a\u0001b""#),
        ("unique_key of 201", "unique_key", "\"" + String(repeating: "u", count: 201) + "\""), ("unique_for 0", "unique_for", "0"),
        ("unique_for 31 days", "unique_for", "2678400"),
    ]

    /// A valid envelope broken by one of ``breakages`` (the field replaced, or added).
    mutating func broken(_ breakage: (name: String, key: String, value: String), id: String, type: String, payload: [UInt8]) -> [UInt8] {
        var fields = validFields(id: id, type: type, payload: payload).filter { $0.key != breakage.key }
        fields.append((breakage.key, Self.text(breakage.value)))
        return render(fields)
    }

    /// Text that is not an envelope at all.
    mutating func garbage(id: String = "g") -> [UInt8] {
        let valid = render(validFields(id: id, type: "diag.record", payload: Self.text("{}")), shuffle: false)
        switch random.next() % 6 {
        case 0: return Array(valid.prefix(Int(random.next() % UInt64(valid.count))))  // cut short
        case 1: return (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case 2: return Self.text("[") + valid + Self.text("]")
        case 3: return pick(Self.others + Self.numbers + Self.strings)
        case 4: return valid + Self.text(pick([" x", ",", "}", "\u{0}"]))
        default: return Self.text(#"{"id":"\#(id)","type":"diag.record"}"#)  // no payload
        }
    }

    /// Anything: valid, broken in a known way, randomly perturbed, or garbage.
    mutating func anything(types: [String], id chosen: String? = nil) -> [UInt8] {
        let id = chosen ?? pick(["j1", "01HQ0R4T5Y6Z7A8B9C0D1E2F3G", "tick:1", "x-\(random.next() % 1000)"])
        let type = pick(types)
        switch random.next() % 10 {
        case 0, 1: return render(validFields(id: id, type: type, payload: payload()))
        case 2, 3: return broken(pick(Self.breakages), id: id, type: type, payload: payload())
        case 4: return garbage(id: id)
        default:
            var fields = validFields(id: id, type: type, payload: payload())
            for _ in 0..<Int(1 + random.next() % 3) {
                switch random.next() % 5 {
                case 0: fields[Int(random.next() % UInt64(fields.count))].value = anyValue()
                case 1: if !fields.isEmpty { fields.remove(at: Int(random.next() % UInt64(fields.count))) }
                case 2: fields.append((pick(["attempt", "max_attempts", "timeout", "run_at", "enqueued_at", "unique_for"]), anyValue()))
                case 3: fields.append((pick(["id", "type", "queue", "unique_key", "payload"]), anyValue()))
                default: fields.append((pick(["extra", "notify", "é", ""]), anyValue()))
                }
            }
            return render(fields)
        }
    }
}
