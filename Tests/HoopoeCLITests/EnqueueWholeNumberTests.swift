import Foundation
import HoopoeCore
import TestSupport
import Testing

/// `hoopoe enqueue` with a payload number its field cannot hold: the field is named and what is wrong said. It printed
/// "the top level: The given data was not valid JSON." for valid JSON.
@Suite struct EnqueueWholeNumberTests {
    @Test func aFractionOrAHugeNumberInAWholeNumberFieldIsNamed() async throws {
        let h = try CLIHarness()
        let cases: [(String, String)] = [
            (#"{"user_id":"1","request_id":"r1","amount":1.5}"#, "amount must be a whole number (got 1.5)"),
            (#"{"user_id":"1","request_id":"r1","amount":1e300}"#, "amount is out of range for its field (got 1e+300)"),
        ]
        for (payload, reason) in cases {
            let (status, output) = try await h.run(["enqueue", "freecredit.request", "--payload", payload])
            #expect(status == 64, "\(output)")
            #expect(output.contains("payload does not match freecredit.request") && output.contains(reason), "\(output)")
            #expect(!output.contains("not valid JSON"), "\(output)")
        }
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.scheduled == 0)
    }
}
