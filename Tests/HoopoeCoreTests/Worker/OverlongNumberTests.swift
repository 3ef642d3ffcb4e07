import Foundation
import HoopoeJSON
import Testing

@testable import HoopoeCore

/// A number written in more than `JSONNumberLength.maxCharacters` characters: Foundation's decoder traps (SIGILL) on
/// some (an integer past 2^53 with a long text and an exponent) when it reads one into a fixed-width integer, so every
/// reader refuses such a text before a decoder sees it. Each of these tests trapped the test runner before the check.
struct OverlongNumberTests {
    /// The number the review found: 2^53 + 1, 200 zeros, `e-200` (221 characters; its value is 2^53 + 1).
    static let trap = "9007199254740993" + String(repeating: "0", count: 200) + "e-200"

    static func envelope(payload: String, id: String = "overlong-1") -> [UInt8] {
        Array(#"{"id":"\#(id)","type":"diag.record","queue":"default","payload":\#(payload),"attempt":0,"enqueued_at":1795400000.5}"#.utf8)
    }

    @Test func theCheckFindsALongNumberOutsideStringsOnly() {
        let limit = JSONNumberLength.maxCharacters
        let atLimit = "1" + String(repeating: "0", count: limit - 1)
        #expect(!JSONNumberLength.hasOverlongNumber(Array("[\(atLimit)]".utf8)))
        #expect(JSONNumberLength.hasOverlongNumber(Array("[\(atLimit)0]".utf8)))
        #expect(JSONNumberLength.hasOverlongNumber(Array(#"{"a":\#(Self.trap)}"#.utf8)))
        // In a string, digits are text: a phone list, a long id.
        #expect(!JSONNumberLength.hasOverlongNumber(Array(#"{"a":"\#(Self.trap)","b":"x\"\#(Self.trap)"}"#.utf8)))
        // Two numbers side by side are counted apart.
        #expect(!JSONNumberLength.hasOverlongNumber(Array("[\(atLimit),\(atLimit)]".utf8)))
    }

    @Test func jsonValueRefusesTheTextInsteadOfTrapping() {
        #expect(JSONValue.parse(Array(#"{"n":\#(Self.trap)}"#.utf8)) == nil)
        #expect(JSONValue.parse(Array(#"{"n":12345678901234567890123}"#.utf8)) != nil)
    }

    @Test func anEnvelopeWithOneIsInvalidForBothReadersNamingTheLimit() {
        for fast in [true, false] {
            guard case .invalid(let reason, _, let id, let type) = EnvelopeReader.read(
                Self.envelope(payload: #"{"key":"k","member":"m","sleep_ms":\#(Self.trap)}"#), queue: "default", fast: fast)
            else {
                Issue.record("fast \(fast): accepted")
                continue
            }
            #expect(reason.contains("more than \(JSONNumberLength.maxCharacters) characters"), "\(reason)")
            #expect(id == "overlong-1" && type == "diag.record")
        }
    }

    @Test func anEnvelopeDecodeAndAPayloadCheckRefuseIt() throws {
        #expect(throws: JSONNumberLength.Overlong.self) {
            _ = try JobEnvelope.decode(Self.envelope(payload: #"{"key":"k","member":"m","sleep_ms":\#(Self.trap)}"#))
        }
        var registry = JobRegistry()
        registry.register(DiagRecordJob())
        let problem = registry.payloadProblem(type: "diag.record", payload: Array(#"{"key":"k","member":"m","sleep_ms":\#(Self.trap)}"#.utf8))
        #expect(problem?.contains("more than \(JSONNumberLength.maxCharacters) characters") == true, "\(problem ?? "nil")")
    }
}
