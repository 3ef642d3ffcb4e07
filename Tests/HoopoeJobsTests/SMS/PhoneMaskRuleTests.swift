import HoopoeCore
import Providers
import Testing

/// Providers' `PhoneMask` (provider log lines, IPPanel's refusal of a recipient) is a copy of HoopoeCore's
/// `PhoneNumberMask` (Providers does not depend on HoopoeCore). The two masked differently: a worker's log showed
/// `receptor=0912****418` and `recipient=+98912****418`, `job show` `09120***418` for the same kind of number.
/// Here both run over every length and lead: any drift fails.
@Suite struct PhoneMaskRuleTests {
    @Test func providersMaskIsTheEnginesRule() {
        var numbers = ["09121234567", "+989121234567", "00989121234567", "+9809121234567", "9121234567", "989121234567",
                       "۰۹۱۲۱۲۳۴۵۶۷", "0912 123 4567", "+98-912-123-4567", "12345", ""]
        for lead in ["", "+", "0", "9", "+98", "0098", "(0"] {
            for count in 0...18 { numbers.append(lead + String(repeating: "7", count: count)) }
        }
        for number in numbers {
            #expect(PhoneMask.mask(number) == PhoneNumberMask.maskNumber(number), "\(number)")
            // A whole number the scanner takes for a phone is masked the same in free text (`job show`, a dead reason).
            let scanned = PhoneNumberMask.mask(number)
            if scanned != number { #expect(scanned == PhoneMask.mask(number), "\(number)") }
        }
        #expect(PhoneMask.mask(["09121234567", "+989351234567"]) == PhoneNumberMask.maskNumbers(["09121234567", "+989351234567"]))
    }
}
