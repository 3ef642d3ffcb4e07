import HoopoeCore
import HoopoeJSON
import Testing

/// Phone numbers as people write them are masked; the numbers an operator needs are not.
struct PhoneNumberMaskTests {
    /// jobs/conformance/redaction.json's `phones`: the vectors jobs/examples/hoopoe_enqueue.py's copy of the rule
    /// runs too, so the two cannot drift.
    static let phones = (try? ConformanceTests.vectors("redaction.json"))?["phones"]

    @Test func aPhoneNumberIsMaskedHoweverItIsWritten() throws {
        let cases = try #require(Self.phones?["masked"]?.arrayValue)
        #expect(cases.count >= 10)
        for pair in cases {
            let text = try #require(pair.arrayValue?.first?.stringValue), masked = try #require(pair.arrayValue?.last?.stringValue)
            #expect(PhoneNumberMask.mask(text) == masked, "\(text)")
        }
    }

    @Test func otherNumbersAreLeftAsTheyAre() {
        let texts = (Self.phones?["unchanged"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(texts.count >= 5)
        for text in texts { #expect(PhoneNumberMask.mask(text) == text) }
    }

    @Test func aPayloadKeyedByPhoneNumberIsMasked() {
        let shown = PayloadRedaction.maskingPersonalData(["09121234567": "sent", "state": ["0912 123 4567": 1]])
        #expect(shown == ["09121***567": "sent", "state": ["0912 *****567": 1]])
    }
}
