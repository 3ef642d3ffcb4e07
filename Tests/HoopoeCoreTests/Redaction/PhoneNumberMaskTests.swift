import HoopoeCore
import HoopoeJSON
import Testing

/// Phone numbers as people write them are masked; the numbers an operator needs are not.
struct PhoneNumberMaskTests {
    @Test(arguments: [
        ("+989121234567", "+9891*****567"), ("09121234567", "09121***567"), ("sms-989121234567", "sms-98912****567"),
        ("0912 123 4567", "0912 *****567"), ("+98-912-123-4567", "+98-9********567"), ("(0912) 123-4567", "(0912*******567"),
        ("+98 (912) 123 45 67", "+98 (*********** 67"), ("۰۹۱۲۱۲۳۴۵۶۷", "۰۹۱۲۱***۵۶۷"), ("٠٩١٢١٢٣٤٥٦٧", "٠٩١٢١***٥٦٧"),
        ("refused receptor '0912 123 4567': not a mobile", "refused receptor '0912 *****567': not a mobile"),
        ("ids 1234 0912 123 4567 done", "ids 1234 0912 *****567 done"),
    ])
    func aPhoneNumberIsMaskedHoweverItIsWritten(text: String, masked: String) {
        #expect(PhoneNumberMask.mask(text) == masked)
    }

    @Test(arguments: [
        "2026-12-04 16:58:59", "redis 91.198.174.192:6379 refused", "entry 1733318400000-0 and 1733318400000-12",
        "job 12345678-0912-3456-7890-abcdefabcdef", "attempt 3 of 25, 1234 ms", "09 12 2026", "unix time 1764867539",
    ])
    func otherNumbersAreLeftAsTheyAre(text: String) {
        #expect(PhoneNumberMask.mask(text) == text)
    }

    @Test func aPayloadKeyedByPhoneNumberIsMasked() {
        let shown = PayloadRedaction.maskingPhones(["09121234567": "sent", "state": ["0912 123 4567": 1]])
        #expect(shown == ["09121***567": "sent", "state": ["0912 *****567": 1]])
    }
}
