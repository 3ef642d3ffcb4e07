import Foundation
import HoopoeCore
import HoopoeJSON
import Testing

@testable import HoopoeJobs

/// A first name enters with a subscription or a threshold and goes into every reminder's token10 weeks later: it is
/// made what Kavenegar's token10 takes where it enters, so no reminder dies on it then.
struct ReminderValidationTests {
    @Test(arguments: [
        ("Sara_Ahmadi", "Sara Ahmadi"),
        ("Ali, Reza; Mina|Omid", "Ali Reza Mina Omid"),
        ("  سارا \t احمدی\n", "سارا احمدی"),
        ("a b c d e f g h", "a b c d e f"),
        (String(repeating: "x", count: 150), String(repeating: "x", count: 100)),
        // Kavenegar answers 422 (for good) for anything but letters and digits in a token (seed 002): these passed
        // here and every reminder of the user died at send time.
        ("Sara 🌸", "Sara"),
        ("[Ali]!", "Ali"),
        ("مریم (Maryam) ❤️", "مریم Maryam"),
        ("Jean-Luc", "Jean-Luc"),
        ("رضا۱۲", "رضا۱۲"),
    ])
    func aFirstNameIsMadeATokenKavenegarTakes(given: String, kept: String) throws {
        let name = try ReminderValidation.firstName(given)
        #expect(name == kept)
        #expect(SMSPayloadCheck.tokenProblem(name, name: "token10") == nil)
        #expect(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == " " }, "only what Kavenegar's tokens hold")
    }

    @Test func aFirstNameOfSeparatorsOnlyIsRefused() {
        #expect(throws: JobFailureMessage.self) { try ReminderValidation.firstName(" _,; ") }
    }

    /// The gift reminder's service name and the first name share one rule (``SMSTokenText``), with each token's word
    /// limit: 9 words for token20, 6 for token10.
    @Test func firstNamesAndServiceNamesKeepTheSameCharacters() throws {
        let text = "Sara 🌸 (VIP) ⚡️ a b c d e f g h"
        #expect(try ReminderValidation.firstName(text) == "Sara VIP a b c d")
        #expect(GiftFollowUps.token20(text) == "Sara VIP a b c d e f g")
    }

    /// A name of emoji alone has nothing Kavenegar would take: refused where it enters, by `subscription.upsert` and
    /// `credit.threshold.set`, with a reason that says so (not "empty": the service did send a name).
    @Test func aFirstNameOfOnlyEmojiIsRefusedAtTheDoorSayingWhy() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        let subscription = try JSONDecoder().decode(SubscriptionUpsertJob.Payload.self, from: Data(JSONValue.object([
            "user_id": "emoji-1", "phone": "09121234567", "first_name": "🌸🌸 ✨", "expires_at": "2030-01-01", "receipt_id": "R-1",
        ]).encoded()))
        let threshold = try JSONDecoder().decode(CreditThresholdSetJob.Payload.self, from: Data(JSONValue.object([
            "user_id": "emoji-1", "threshold_id": "t1", "threshold": 100, "phone": "09121234567", "first_name": "(🌸)",
        ]).encoded()))
        let failures = [
            try await harness.failure(of: SubscriptionUpsertJob(services: services), subscription),
            try await harness.failure(of: CreditThresholdSetJob(services: services), threshold),
        ]
        for failure in failures {
            #expect(failure?.disposition == .permanent)
            #expect(failure?.message.hasPrefix("first_name must hold a letter or a digit") == true, "\(String(describing: failure?.message))")
        }
        #expect(try await harness.events("subscription.upserted").isEmpty)
        #expect(try await harness.events("credit.threshold.saved").isEmpty)
        #expect(throws: JobFailureMessage.self) { try ReminderValidation.firstName("   ") }
        do {
            _ = try ReminderValidation.firstName(" \t")
        } catch {
            #expect(error.message == "first_name must not be empty")
        }
    }
}
