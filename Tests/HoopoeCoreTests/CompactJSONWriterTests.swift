import Foundation
import HoopoeJSON
import Testing

@testable import HoopoeCore

/// The envelope's bytes are a protocol (jobs/PROTOCOL.md): other clients write and read them and the worker stores
/// them. ``CompactJSONWriter`` replaced `JSONEncoder` for speed, so it must write exactly what `JSONEncoder` (sorted
/// keys, unescaped slashes) wrote: compared here on fixed edge cases and on thousands of random envelopes.
@Suite struct CompactJSONWriterTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Where two byte strings part, with some context, for a failure message.
    private func firstDifference(_ written: [UInt8], _ expected: [UInt8]) -> String {
        let at = (0..<min(written.count, expected.count)).first { written[$0] != expected[$0] } ?? min(written.count, expected.count)
        func window(_ bytes: [UInt8]) -> String { text(Array(bytes[max(0, at - 40)..<min(bytes.count, at + 40)])).debugDescription }
        return "at byte \(at): wrote \(window(written)), the encoder \(window(expected))"
    }

    @Test func numbersAreWrittenAsTheEncoderWritesThem() throws {
        let doubles: [Double] = [
            0, -0.0, 1, 30, 0.5, 0.1, 1764507478.123456, 1e-5, 1e-7, 0.0001, 1e15, 1e16, 1e20, 1.5e300, -2.25, .leastNonzeroMagnitude,
            .greatestFiniteMagnitude, 12345678901234567168, 86_400, 1_764_507_478,
        ]
        for value in doubles {
            var writer = CompactJSONWriter()
            try writer.number(value)
            #expect(text(writer.bytes) == text(try encoderReference([value])).dropFirst().dropLast(), "\(value)")
        }
        for value: Int64 in [0, 7, 10, -1, -10, .max, .min, 1000] {
            var writer = CompactJSONWriter()
            writer.integer(value)
            #expect(text(writer.bytes) == String(value))
        }
    }

    @Test func nanAndInfinityAreRefusedAsTheEncoderRefusesThem() {
        for value in [Double.nan, .infinity, -.infinity] {
            var writer = CompactJSONWriter()
            #expect(throws: JSONNotEncodable.self) { try writer.number(value) }
            #expect(JobEnvelope(type: "t", payload: .object(["x": .double(value)])).encoded().isEmpty)
        }
    }

    @Test func stringsAreEscapedAsTheEncoderEscapesThem() throws {
        let samples = [
            "", "plain", "a/b", "quote \" and \\ backslash", "\u{0}\u{1}\u{7}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1b}\u{1f} ",
            "\u{7f}\u{80}\u{9f}", "\u{2028}\u{2029}", "سلام دنیا", "😀 e\u{301} ﷽", "\\u0041", "</script>",
        ]
        for sample in samples {
            var writer = CompactJSONWriter()
            writer.string(sample)
            #expect(writer.bytes == (try encoderReference([sample])).dropFirst().dropLast(), "\(sample.debugDescription)")
        }
    }

    /// Each byte that needs escaping is escaped wherever it stands in a string: first, last, alone, between ASCII
    /// bytes one off the escaped ones, next to multi-byte UTF-8, and at every place in the eight-byte words the
    /// writer scans at once (strings up to three words long), beside bytes that are an escaped one with the top bit
    /// set (0xA0, 0xA2, 0xDC: the word tests must not take them for 0x20, `"` or `\`).
    @Test func anEscapeIsWrittenWhereverItStands() throws {
        let needing: [Unicode.Scalar] = ["\"", "\\", "\u{0}", "\u{1f}", "\n"]
        let fillers = [  // 0x21, 0x23, 0x5B, 0x5D: one off the escaped ones
            "a", "é", "😀", "\u{7f}", " ", "!", "#", "[", "]", "~", "\u{a0}", "¢", "\u{71c}",
        ]
        for filler in fillers {
            for length in 0..<26 {
                for position in 0...length {
                    for scalar in needing {
                        var sample = String(repeating: filler, count: length)
                        sample.insert(Character(scalar), at: sample.index(sample.startIndex, offsetBy: position))
                        var writer = CompactJSONWriter()
                        writer.string(sample)
                        let expected = try encoderReference([sample]).dropFirst().dropLast()
                        #expect(writer.bytes[...] == expected, "\(sample.debugDescription)")
                    }
                }
                var writer = CompactJSONWriter()
                let plain = String(repeating: filler, count: length)
                writer.string(plain)
                #expect(writer.bytes[...] == (try encoderReference([plain])).dropFirst().dropLast(), "\(plain.debugDescription)")
            }
        }
    }

    @Test func objectKeysAreSortedAsTheEncoderSortsThem() throws {
        let keys = ["e\u{301}x", "~", "\u{7f}", "b", "a10", "a9", "A", "a", "_x", "Z", "é", "e", "a_b", "aB", "ab", "B", "", "10", "9", "😀", "ﬀ", "z~", "z-", "Ω"]
        let object = JSONValue.object(Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, .integer(Int64($0))) }))
        var writer = CompactJSONWriter()
        try writer.value(object)
        #expect(text(writer.bytes) == text(try encoderReference(object)))
    }

    @Test func everyFieldOfAnEnvelopeIsWrittenAsBefore() throws {
        var full = JobEnvelope(
            id: "01JABCDEFGHJKMNPQRSTVWXYZ0", type: "sms.send", queue: "a-b_c.d", payload: ["to": "+98 912 000 0000", "n": 3],
            attempt: 4, maxAttempts: 25, enqueuedAt: 1_764_507_478.123456, runAt: 1_764_507_999.5, uniqueKey: "order:7 \"x\"",
            uniqueFor: 3600, timeout: 30, lastError: "boom\n\tat line 3")
        full.notify = true
        full.deadReason = "retries exhausted"
        full.diedAt = 1_764_508_000.25
        full.failedAttempts = [FailedAttempt(attempt: 1, at: 1_764_507_500.5, error: "first"), FailedAttempt(attempt: 2, at: 1_764_507_600, error: "x/y \u{1}")]
        #expect(text(full.encoded()) == text(try encoderReference(full)))
        let minimal = JobEnvelope(id: "x", type: "t", queue: "q", payload: .object([:]), enqueuedAt: 0)
        #expect(text(minimal.encoded()) == #"{"attempt":0,"enqueued_at":0,"id":"x","payload":{},"queue":"q","type":"t"}"#)
        #expect(text(minimal.encoded()) == text(try encoderReference(minimal)))
        var notNotified = minimal
        notNotified.notify = false
        #expect(text(notNotified.encoded()) == text(try encoderReference(notNotified)))
    }

    @Test func aTypedPayloadIsSplicedInAsTheEncoderWouldWriteIt() throws {
        struct Payload: Encodable { let name: String; let count: Int; let tags: [String]; let note: String? }
        let payload = Payload(name: "آرش/1", count: 2, tags: ["a", "b\""], note: nil)
        let envelope = JobEnvelope(id: "id1", type: "t.typed", queue: "q", enqueuedAt: 1_764_507_478.5, runAt: 1_764_507_999)
        let spliced = envelope.encoded(payloadJSON: try JobEnvelope.encodePayload(payload))
        var whole = envelope
        whole.payload = try JSONDecoder().decode(JSONValue.self, from: Data(try encoderReference(payload)))
        #expect(text(spliced) == text(try encoderReference(whole)))
        #expect(try JobEnvelope.decode(spliced) == whole)
    }

    @Test func randomEnvelopesAreWrittenAsTheEncoderWritesThem() throws {
        var random = WriterFuzz(seed: 0x5EED_0034)
        for round in 0..<3000 {
            var envelope = JobEnvelope(
                id: random.text(max: 30), type: random.text(max: 20), queue: random.text(max: 10), payload: random.value(depth: 3),
                attempt: Int(random.next() % 1000), enqueuedAt: random.double())
            if random.coin() { envelope.maxAttempts = Int(random.next() % 1000) }
            if random.coin() { envelope.runAt = random.double() }
            if random.coin() { envelope.uniqueKey = random.text(max: 40) }
            if random.coin() { envelope.uniqueFor = random.double() }
            if random.coin() { envelope.timeout = random.double() }
            if random.coin() { envelope.notify = random.coin() }
            if random.coin() { envelope.lastError = random.text(max: 80) }
            if random.coin() { envelope.deadReason = random.text(max: 20) }
            if random.coin() { envelope.diedAt = random.double() }
            if random.coin() {
                envelope.failedAttempts = (0..<Int(random.next() % 3)).map { _ in
                    FailedAttempt(attempt: Int(random.next() % 30), at: random.double(), error: random.text(max: 40))
                }
            }
            let written = envelope.encoded()
            let expected = try encoderReference(envelope)
            #expect(written == expected, "round \(round): \(firstDifference(written, expected))")
            #expect(try JobEnvelope.decode(written).id == envelope.id)
        }
    }
}

/// Random envelopes from a fixed seed (``SeededRandom``), so a failing round can be replayed.
private struct WriterFuzz {
    var random: SeededRandom
    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func next() -> UInt64 { random.next() }

    mutating func coin() -> Bool { next() & 1 == 0 }

    /// Text mixing ASCII, every control, quotes, backslashes, slashes, Persian, emoji and combining marks.
    mutating func text(max: Int) -> String {
        let pieces: [String] = [
            "a", "Z", "0", "9", "_", "-", ".", ":", "/", "\"", "\\", " ", "\u{7f}", "\u{2028}", "س", "ی", "😀", "e\u{301}", "é", "~",
        ]
        var out = ""
        for _ in 0..<Int(next() % UInt64(max + 1)) {
            if next() % 8 == 0 {
                out.unicodeScalars.append(Unicode.Scalar(UInt8(next() % 32)))
            } else {
                out += pieces[Int(next() % UInt64(pieces.count))]
            }
        }
        return out
    }

    /// Doubles of every shape `description` has: whole, fractional, tiny, huge, negative.
    mutating func double() -> Double {
        switch next() % 6 {
        case 0: Double(next() % 100_000)
        case 1: Double(next() % 10_000_000_000) / 1000
        case 2: Double(bitPattern: next() & 0xBFEF_FFFF_FFFF_FFFF)  // any sign and mantissa, a finite exponent
        case 3: Double(next() % 1000) * 1e-9
        case 4: -Double(next() % 1_000_000) / 7
        default: 1_764_507_478 + Double(next() % 1_000_000) / 1_000_000
        }
    }

    mutating func value(depth: Int) -> JSONValue {
        switch next() % (depth > 0 ? 8 : 6) {
        case 0: .string(text(max: 12))
        case 1: .integer(Int64(bitPattern: next()) >> Int64(next() % 64))
        case 2: .double(double())
        case 3: .bool(coin())
        case 4: .null
        case 5: .string("")
        case 6: .array((0..<Int(next() % 4)).map { _ in value(depth: depth - 1) })
        default:
            .object(Dictionary((0..<Int(next() % 5)).map { _ in (text(max: 6), value(depth: depth - 1)) }, uniquingKeysWith: { first, _ in first }))
        }
    }
}
