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

    /// Digits after a decimal point are a fraction, not a phone number: a logged duration
    /// (`elapsed=119.99268******999 seconds` before) stays whole. Phone numbers beside decimals, and dotted ones, are
    /// still masked. (Swift's own log rule: jobs/conformance/redaction.json's vectors are unchanged.)
    @Test func aFractionIsNotAPhoneNumber() {
        for text in [
            "elapsed=119.992684999999999 seconds", "elapsed=119.99268499999999 seconds", "took 0.912345678901 s",
            "0.912345678901234567 seconds", "ratio 3.09121234567", "x=12.91234567890",
        ] {
            #expect(PhoneNumberMask.mask(text) == text)
        }
        #expect(PhoneNumberMask.mask("1.5 09121234567") == "1.5 09121***567")
        #expect(PhoneNumberMask.mask("ratio 12.34 09121234567") == "ratio 12.34 09121***567")
        #expect(PhoneNumberMask.mask("sent.09121234567") == "sent.09121***567")
        #expect(PhoneNumberMask.mask("call 0912.123.4567 now") == "call 0912.*****567 now")
        #expect(PhoneNumberMask.mask("tel: 912.123.45.67") == "tel: 912.1*****.67")
    }

    @Test func aPayloadKeyedByPhoneNumberIsMasked() {
        let shown = PayloadRedaction.maskingPersonalData(["09121234567": "sent", "state": ["0912 123 4567": 1]])
        #expect(shown == ["09121***567": "sent", "state": ["0912 *****567": 1]])
    }
}
