import Foundation
import HoopoeCore
import HoopoeJSON
import TestSupport
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
        #expect(PhoneNumberMask.mask("1.5 09121234567") == "1.5 0912****567")
        #expect(PhoneNumberMask.mask("ratio 12.34 09121234567") == "ratio 12.34 0912****567")
        #expect(PhoneNumberMask.mask("sent.09121234567") == "sent.0912****567")
        #expect(PhoneNumberMask.mask("call 0912.123.4567 now") == "call 0912.*****567 now")
        #expect(PhoneNumberMask.mask("tel: 912.123.45.67") == "tel: 912.1*****.67")
    }

    /// One rule, the stricter of the two maskers there were (`0912****567` in a worker's provider log line,
    /// `09121***567` in `job show`): for every length, the last 3 characters and at most the first 5, one fewer per
    /// character under 12. A short value known to be a phone shows at most its last 2.
    @Test func aNumberShowsItsPrefixAndLastThreeAtMost() {
        #expect(PhoneNumberMask.mask("09121234567") == "0912****567", "an Iranian mobile: its operator prefix and last 3")
        #expect(PhoneNumberMask.mask("+989121234567") == "+9891*****567")
        #expect(PhoneNumberMask.mask("+9809121234567") == "+9809******567")
        #expect(PhoneNumberMask.mask("9121234567") == "912****567")
        #expect(PhoneNumberMask.mask("refused 09121234567, +989121234567") == "refused 0912****567, +9891*****567")
        #expect(PhoneNumberMask.maskNumber("+9809121234567") == PhoneNumberMask.mask("+9809121234567"), "a reason's phone as the payload's")
        #expect(PhoneNumberMask.maskNumber("12345") == "***45")
        #expect(PhoneNumberMask.maskNumber("12345678") == "1****678")
        #expect(PhoneNumberMask.maskNumber("") == "" && PhoneNumberMask.maskNumber("12") == "**" && PhoneNumberMask.maskNumber("123") == "**3")
        #expect(PhoneNumberMask.maskNumbers(["09121234567", "09351234567"]) == "0912****567,0935****567")
        for count in 0...20 {
            let masked = PhoneNumberMask.maskNumber(String(repeating: "9", count: count))
            let shown = masked.filter { $0 != "*" }.count
            #expect(masked.count == count && shown <= (count >= 8 ? min(5, count - 7) + 3 : min(2, max(0, count - 2))), "\(count): \(masked)")
        }
    }

    /// The mask examples the docs give (README's `LOG_FORMAT` row, jobs/EVENTS.md, jobs/types/sms.send.md), each written
    /// `` `number` → `masked` ``, are what the masker prints: they promised `09121***567` while logs printed
    /// `0912****567` and `job show` yet another form. A masked number a doc shows without its input is refused too.
    @Test(arguments: ["README.md", "jobs/EVENTS.md", "jobs/types/sms.send.md"])
    func theDocsExamplesAreWhatTheMaskPrints(_ path: String) throws {
        let text = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent(path), encoding: .utf8)
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        let pair = try NSRegularExpression(pattern: #"`([^`]+)` → `([^`]*\*[^`]*)`"#)
        let pairs = pair.matches(in: flat, range: NSRange(flat.startIndex..., in: flat)).map { match in
            (String(flat[Range(match.range(at: 1), in: flat)!]), String(flat[Range(match.range(at: 2), in: flat)!]))
        }.filter { $0.0.contains(where: \.isNumber) }
        #expect(!pairs.isEmpty, "\(path) shows a masked phone number with its input")
        for (number, masked) in pairs {
            #expect(PhoneNumberMask.mask(number) == masked, "\(path): `\(number)` → `\(masked)`")
        }
        let shown = try NSRegularExpression(pattern: #"`([+(]?[0-9][^`]*\*\*[^`]*[0-9])`"#)
        let outputs = Set(pairs.map(\.1))
        for match in shown.matches(in: flat, range: NSRange(flat.startIndex..., in: flat)) {
            let literal = String(flat[Range(match.range(at: 1), in: flat)!])
            #expect(outputs.contains(literal), "\(path) shows `\(literal)` without the number it masks")
        }
    }

    /// The field names README gives as phone fields ("under a field named as a phone — `phone`, … —") are ones
    /// ``PhoneFieldNames`` masks by name, and its example of a short number is what the mask prints.
    @Test func theReadmesPhoneFieldNamesAreMasked() throws {
        let text = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        let start = try #require(flat.range(of: "under a field named as a phone — "), "README names the phone fields")
        let end = try #require(flat[start.upperBound...].range(of: " —"))
        let names = flat[start.upperBound..<end.lowerBound].split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(names.count >= 5, "\(names)")
        for name in names {
            #expect(PhoneFieldNames.matches(name), "README names `\(name)` a phone field")
            let shown = PayloadRedaction.maskingPersonalData([name: "0912123"])
            #expect(shown[name] == .string(PhoneNumberMask.maskNumber("0912123")), "\(name): \(shown)")
        }
    }

    @Test func aPayloadKeyedByPhoneNumberIsMasked() {
        let shown = PayloadRedaction.maskingPersonalData(["09121234567": "sent", "state": ["0912 123 4567": 1]])
        #expect(shown == ["0912****567": "sent", "state": ["0912 *****567": 1]])
    }
}
