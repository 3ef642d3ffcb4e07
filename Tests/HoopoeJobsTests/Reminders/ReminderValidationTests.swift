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
    ])
    func aFirstNameIsMadeATokenKavenegarTakes(given: String, kept: String) throws {
        let name = try ReminderValidation.firstName(given)
        #expect(name == kept)
        #expect(SMSPayloadCheck.tokenProblem(name, name: "token10") == nil)
    }

    @Test func aFirstNameOfSeparatorsOnlyIsRefused() {
        #expect(throws: JobFailureMessage.self) { try ReminderValidation.firstName(" _,; ") }
    }
}
