import Foundation
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

    /// "3 hours left" holds near its time only: `sms.send`'s retries (about 6 h) or a deferral to the end of quiet
    /// hours sent it at 17:07 for an 18:00 expiry, or after the expiry.
    @Test func theReminderMayGoOutAnHourLateButNeverAfterTheExpiry() {
        let sendAt = Date(timeIntervalSince1970: 1_733_121_000)
        #expect(GiftFollowUps.reminderNotAfter(sendAt: sendAt, expiresAt: sendAt.addingTimeInterval(3 * 3600)) == sendAt.addingTimeInterval(3600))
        // An evening reminder 15 minutes before quiet hours, for a gift expiring 30 minutes after it: the expiry bounds it.
        #expect(GiftFollowUps.reminderNotAfter(sendAt: sendAt, expiresAt: sendAt.addingTimeInterval(1800)) == sendAt.addingTimeInterval(1800))
    }
}
