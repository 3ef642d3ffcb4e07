import Testing

@testable import HoopoeJobs

/// The gift reminder's `token20`: the panel's service names, as Kavenegar's tokens take them.
@Suite("Gifts: the reminder's service name")
struct GiftFollowUpsTests {
    /// The SMM panel's own names (seed 001) carry emoji and brackets, which Kavenegar refuses in a token with 422, for
    /// good: the reminder never went out.
    @Test(arguments: [
        ("لایک پست - ایرانی کیفیت خوب (سرعت بالا) ⚡️", "لایک پست - ایرانی کیفیت خوب سرعت بالا"),
        ("فالوور اینستاگرام سرور ( سرعت بالا )💎⚡", "فالوور اینستاگرام سرور سرعت بالا"),
        ("views_fast;cheap|now", "views fast cheap now"),
        ("⚡️💎", GiftFollowUps.defaultServiceName),
        ("a b c d e f g h i j k", "a b c d e f g h i"),
    ])
    func serviceNamesKeepLettersDigitsAndDashes(name: String, token: String) {
        let shown = GiftFollowUps.token20(name)
        #expect(shown == token)
        #expect(SMSPayloadCheck.tokenProblem(shown, name: "token20") == nil)
        #expect(shown.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == " " })
    }
}
