import Foundation
@testable import HoopoeJobs
import Providers
import TestSupport
import Testing

/// What `sendinblue.register` accepts: the documented sample, Kingfisher's plan shape, and the checks made before
/// any Brevo call.
@Suite struct SendinblueRegisterPayloadTests {
    func decode(_ json: String) throws -> SendinblueRegisterPayload {
        try JSONDecoder().decode(SendinblueRegisterPayload.self, from: Data(json.utf8))
    }

    @Test func theSampleDecodesAndIsUsable() throws {
        let url = BuiltProducts.projectRoot.appendingPathComponent("jobs/samples/sendinblue.register.json")
        let payload = try JSONDecoder().decode(SendinblueRegisterPayload.self, from: Data(contentsOf: url))
        #expect(payload.problem == nil)
        #expect(payload == SendinblueRegisterPayload(
            userID: "42", email: "josh.cruise@example.com", firstName: "Josh", lastName: "Cruise", company: "Your Company",
            password: "Pa55w0rd65", language: "en", plan: .init(id: "3", emailCredits: 1200, smsCredits: 450, ip: "123.65.8.22")))
        #expect(payload.newChild?.language == .en)
    }

    @Test func aKingfisherPlanCreditIsEmailCreditsAndNumbersAreIDs() throws {
        let payload = try decode("""
            {"user_id": 7, "email": "a@example.com", "first_name": "A", "last_name": "B", "company": "C", "password": "p4ss",
             "plan": {"id": 3, "credit": 5000, "ip": ""}}
            """)
        #expect(payload.userID == "7")
        #expect(payload.plan == .init(id: "3", emailCredits: 5000, smsCredits: 0, ip: nil))
        #expect(payload.problem == nil)
        let none = try decode("""
            {"user_id": "7", "email": "a@example.com", "first_name": "A", "last_name": "B", "company": "C", "password": "p",
             "plan": {"credit": null, "ip": null}}
            """)
        #expect(none.plan == .init(emailCredits: 0, smsCredits: 0, ip: nil))
    }

    @Test(arguments: [
        (#""email": "not-an-email""#, "email"), (#""first_name": " ""#, "first_name"), (#""language": "fa""#, "language"),
        (#""plan": {"credit": -1}"#, "plan.credit"), (#""plan": {"credit": 1, "ip": "10.0.0.300"}"#, "plan.ip"),
    ])
    func problemsAreFoundBeforeAnyCall(field: String, named: String) throws {
        var object: [String: String] = [
            "user_id": #""u1""#, "email": #""a@example.com""#, "first_name": #""A""#, "last_name": #""B""#, "company": #""C""#,
            "password": #""secret-value""#, "plan": #"{"credit": 1}"#,
        ]
        let parts = field.split(separator: ":", maxSplits: 1)
        object[String(parts[0]).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))] = String(parts[1])
        let json = "{" + object.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
        let problem = try #require(try decode(json).problem)
        #expect(problem.contains(named))
        #expect(!problem.contains("secret-value"))
    }

    @Test func withoutAPasswordThereIsNoChildToCreate() throws {
        let payload = try decode("""
            {"user_id": "7", "email": "a@example.com", "first_name": "A", "last_name": "B", "company": "C", "plan": {}}
            """)
        #expect(payload.problem == nil)
        #expect(payload.newChild == nil)
    }
}
