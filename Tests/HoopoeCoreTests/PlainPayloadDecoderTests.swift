import Foundation
import Testing

@testable import HoopoeCore

/// The worker's payload reader without JSONDecoder: it takes the usual payloads itself, and for any payload it
/// either gives JSONDecoder's value or declines (so JSONDecoder's verdict, value or error, is what users see).
@Suite struct PlainPayloadDecoderTests {
    struct Inner: Codable, Equatable {
        let id: Int
        let label: String?
    }

    enum Kind: String, Codable { case first, second }

    struct Wide: Codable, Equatable {
        let name: String
        let count: Int
        let ratio: Double
        let flag: Bool
        let note: String?
        let tags: [String]
        let inner: Inner?
        let small: UInt8?
        let big: Int64?
        let map: [String: Int]?
        let kind: Kind?
        let grid: [[Double]]?
    }

    struct Key: Codable, Equatable { let key: String }
    struct Stamped: Codable, Equatable { let at: Date }
    struct Money: Codable, Equatable { let amount: Decimal }
    struct Ratio: Codable, Equatable { let value: Float }

    /// A payload whose own decoding swallows an error and takes a default: on this reader's decline that
    /// default must not become the answer.
    struct Lenient: Decodable, Equatable {
        let amount: Decimal
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            amount = (try? container.decode(Decimal.self, forKey: .amount)) ?? -1
        }
        enum CodingKeys: String, CodingKey { case amount }
    }

    /// An id sent as a number or as a string (the domain's ids): one kind tried, then the other.
    struct FlexibleID: Decodable, Equatable {
        let id: String
        let extra: Int?
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let number = try? container.decode(Int64.self, forKey: .id) {
                id = "n\(number)"
            } else {
                id = try container.decode(String.self, forKey: .id)
            }
            extra = try? container.decode(Int.self, forKey: .extra)
        }
        enum CodingKeys: String, CodingKey { case id, extra }
    }

    /// Either nil (declined) or exactly JSONDecoder's value; never a value where JSONDecoder fails.
    private func agrees<T: Decodable & Equatable>(_ type: T.Type, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> T? {
        let bytes = Array(text.utf8)
        let plain = try? PlainPayloadDecoder.value(type, from: bytes, range: 0..<bytes.count)
        let full = try? JSONDecoder().decode(type, from: Data(bytes))
        if let plain {
            #expect(plain == full, "\(T.self) from \(text)", sourceLocation: sourceLocation)
        }
        return plain
    }

    @Test func theUsualPayloadsAreReadWithoutJSONDecoderAndGiveItsValue() throws {
        #expect(agrees(Key.self, #"{"key":"bench:done"}"#) == Key(key: "bench:done"))
        let wide = #"""
            { "name": "Sara \"S\" \u0633\u0627\u0631\u0627 / \\ \n", "count": -42, "ratio": 0.1, "flag": true, "note": null,
              "tags": ["a", "سارا", ""], "inner": {"id": 7, "label": "x"}, "small": 255, "big": 9007199254740993,
              "map": {"a": 1, "b": -2}, "kind": "second", "grid": [[1, 2.5e3], [], [-0.0]], "unknown": {"deep": [null, true]} }
            """#
        let decoded = try #require(agrees(Wide.self, wide))
        #expect(decoded.name == "Sara \"S\" سارا / \\ \n" && decoded.big == 9_007_199_254_740_993 && decoded.note == nil)
        #expect(agrees([Int].self, "[1, 2, 3]") == [1, 2, 3])
        #expect(agrees(String.self, #""plain""#) == "plain")
        #expect(agrees([String: Double].self, #"{"a": 1.5}"#) == ["a": 1.5])
        // A kind tried then another: JSONDecoder throws for the first too, so this is read here, to its value.
        #expect(agrees(FlexibleID.self, #"{"id": 42}"#) == (try JSONDecoder().decode(FlexibleID.self, from: Data(#"{"id": 42}"#.utf8))))
        #expect(agrees(FlexibleID.self, #"{"id": "u-1", "extra": "x"}"#)?.id == "u-1")
        #expect(agrees(FlexibleID.self, #"{"id": "u-1"}"#)?.extra == .some(nil))
        // …but a try? around what only JSONDecoder may judge (an integer written 42.0) is a decline.
        #expect(agrees(FlexibleID.self, #"{"id": 42.0}"#) == nil)
        #expect(agrees(FlexibleID.self, #"{"id": "u", "extra": 1e2}"#) == nil)
    }

    @Test func whatJSONDecoderDecidesItselfIsDeclined() {
        // Types with JSONDecoder rules of their own, integers not written as integers, out-of-range numbers.
        #expect(agrees(Stamped.self, #"{"at": 12.5}"#) == nil)
        #expect(agrees(Money.self, #"{"amount": 0.1}"#) == nil)
        #expect(agrees(Ratio.self, #"{"value": 0.1}"#) == nil)
        #expect(agrees(Inner.self, #"{"id": 1.0}"#) == nil)
        #expect(agrees(Inner.self, #"{"id": 1e2}"#) == nil)
        #expect(agrees(Inner.self, #"{"id": 9223372036854775808}"#) == nil)
        #expect(agrees([UInt8].self, "[-0]") == nil)
        #expect(agrees([Double].self, "[1e400]") == nil)
        #expect(agrees([Double].self, "[1e-400]") == nil)
        // Duplicate keys, surrogate escapes, invalid UTF-8, malformed JSON, errors: JSONDecoder's verdict.
        #expect(agrees(Key.self, #"{"key": "a", "key": "b"}"#) == nil)
        #expect(agrees(Key.self, #"{"key": "\ud83d\ude00"}"#) == nil)
        #expect(agrees(Key.self, #"{"key": "ÿ"}"#) == Key(key: "ÿ"))
        let invalid: [UInt8] = Array(#"{"key": ""#.utf8) + [0xC3] + Array(#""}"#.utf8)
        #expect((try? PlainPayloadDecoder.value(Key.self, from: invalid, range: 0..<invalid.count)) == nil)
        for text in [#"{"key": 1}"#, #"{"key": null}"#, "{}", #"{"key": "a",}"#, #"{"key": "a"} x"#, #"{"key": "a\x"}"#, "[01]"] {
            #expect(agrees(Key.self, text) == nil, "\(text)")
        }
        // The payload's own try? does not turn a decline into its default.
        #expect(agrees(Lenient.self, #"{"amount": 0.1}"#) == nil)
    }

    /// A member is found by reading its object's text again, past the members before it: strings holding brackets,
    /// quotes and backslashes, nested objects and arrays, literals and numbers are stepped over, not misread.
    @Test func membersAreFoundPastWhatComesBeforeThem() throws {
        struct Late: Codable, Equatable {
            let key: String
            let after: [Int]
        }
        let text = #"""
            {"a": "}]\"{[", "b": {"c": ["]", {"d": "\\"}], "e": null}, "f": [true, false, -1.5e3, {}, []],
             "g": "\u0041\n", "key": "found \"it\"", "after": [1, 2], "z": {"key": "not this one"}}
            """#
        #expect(agrees(Late.self, text) == Late(key: #"found "it""#, after: [1, 2]))
        #expect(agrees([String: [String: String]].self, #"{"x": {"b": "2", "a": "1"}, "y": {}}"#) == ["x": ["a": "1", "b": "2"], "y": [:]])
        #expect(agrees([[Key]].self, #"[[{"key": "a"}], [], [{"key": "b"}, {"key": "c"}]]"#)?.joined().map(\.key) == ["a", "b", "c"])
        // A duplicate is looked for in its own object only: the same key in two objects is no duplicate.
        #expect(agrees([Key].self, #"[{"key": "a"}, {"key": "b"}]"#) == [Key(key: "a"), Key(key: "b")])
        #expect(agrees(Late.self, #"{"key": "k", "after": [], "x": {"key": 1, "after": 2}, "y": {"key": 3}}"#) == Late(key: "k", after: []))
        #expect(agrees(Late.self, #"{"key": "k", "after": [], "x": {"key": 1, "after": 2, "key": 3}}"#) == nil)
        // An object of more members than it reads well (each found from the object's start) is JSONDecoder's.
        func map(_ count: Int) -> String { "{" + (0..<count).map { #""m\#($0)": \#($0)"# }.joined(separator: ", ") + "}" }
        let most = PlainPayloadDecoder.Checker.maxMembers
        #expect(agrees([String: Int].self, map(most))?.count == most)
        #expect(agrees([String: Int].self, map(most + 1)) == nil)
        #expect(try JSONDecoder().decode([String: Int].self, from: Data(map(most + 1).utf8)).count == most + 1)
    }

    /// Keys are matched as JSONDecoder matches them, `String`'s `==`: a key with an escape or beyond ASCII is
    /// JSONDecoder's to read, and a coding key that is not ASCII still finds the ASCII key it equals.
    @Test func keysMatchAsJSONDecoderMatchesThem() throws {
        struct Kelvin: Decodable, Equatable {
            let value: Int
            enum CodingKeys: String, CodingKey { case value = "\u{212A}" }  // the Kelvin sign, canonically "K"
        }
        #expect("\u{212A}" == "K")
        #expect(agrees(Kelvin.self, #"{"K": 7}"#) == (try JSONDecoder().decode(Kelvin.self, from: Data(#"{"K": 7}"#.utf8))))
        #expect(agrees(Kelvin.self, #"{"K": 7}"#)?.value == 7)
        #expect(agrees(Key.self, #"{"k\u0065y": "escaped"}"#) == nil)
        #expect(agrees(Key.self, #"{"key": "a", "ké": "b"}"#) == nil)
        #expect(try JSONDecoder().decode(Key.self, from: Data(#"{"k\u0065y": "escaped"}"#.utf8)) == Key(key: "escaped"))
    }

    @Test func onlyThePayloadsBytesAreRead() {
        let envelope = Array(#"{"id":"1","payload":{"key":"k"},"type":"t"}"#.utf8)
        let start = 20
        #expect((try? PlainPayloadDecoder.value(Key.self, from: envelope, range: start..<start + 11)) == Key(key: "k"))
        #expect((try? PlainPayloadDecoder.value(Key.self, from: envelope, range: start..<start + 10)) == nil)
    }

    /// Random payload texts (valid ones and ones with a byte changed, dropped or added) against JSONDecoder:
    /// whenever this reader answers, the answer is JSONDecoder's; and it does answer for most of the valid ones.
    @Test func randomPayloadsAgreeWithJSONDecoder() {
        var random = SeededRandom(seed: 0x17)
        let pieces = [#""a""#, #""\u00e9\n""#, "0", "-1", "2.5", "1e3", "255", "256", "-0", "true", "null", "[]", "{}", #""سارا""#]
        let keys = ["name", "count", "ratio", "flag", "note", "tags", "inner", "small", "big", "map", "kind", "grid", "id", "label", "x"]
        let alphabet = Array(#"{}[]":,\ -.e0123456789aturn"#.utf8)
        var answered = 0
        for round in 0..<3000 {
            func value(_ depth: Int) -> String {
                switch Int.random(in: 0..<(depth > 2 ? 1 : 4), using: &random) {
                case 0: return pieces.randomElement(using: &random)!
                case 1: return "[" + (0..<Int.random(in: 0...3, using: &random)).map { _ in value(depth + 1) }.joined(separator: ",") + "]"
                default:
                    let members = keys.shuffled(using: &random).prefix(Int.random(in: 0...6, using: &random))
                    return "{" + members.map { "\"\($0)\": \(value(depth + 1))" }.joined(separator: ", ") + "}"
                }
            }
            var bytes = Array(value(0).utf8)
            if round % 3 == 1, !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &random)!, at: at)
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let answers = [
                agrees(Wide.self, text) != nil, agrees(Inner.self, text) != nil, agrees([String: Int].self, text) != nil,
                agrees([Double].self, text) != nil, agrees([Int8].self, text) != nil, agrees(String.self, text) != nil,
                agrees(FlexibleID.self, text) != nil, agrees(Lenient.self, text) != nil,
            ]
            if answers.contains(true) { answered += 1 }
        }
        #expect(answered > 300, "the reader answered \(answered) of 3000")
    }
}
