import Foundation
import HoopoeCore
import HoopoeJobs
import Testing
import TestSupport

/// jobs/samples/ for the gift and free-credit jobs decode with the handlers' payload types, and validate against
/// their schemas (when python3 with jsonschema is there), so the documentation cannot drift from the code.
@Suite("Gifts and free credit: samples and schemas")
struct GiftSamplesTests {
    private func sample(_ type: String) throws -> Data {
        try Data(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("jobs/samples/\(type).json"))
    }

    @Test("every sample decodes with its handler's payload type")
    func samplesDecode() throws {
        let granted = try JSONDecoder().decode(GiftGrantedJob.Payload.self, from: sample(GiftGrantedJob.type))
        #expect(granted.userID == "176" && granted.expiresAt == 1_593_269_124 && granted.phone != nil)
        #expect(try JSONDecoder().decode(GiftUsedJob.Payload.self, from: sample(GiftUsedJob.type)).userGiftID == "24")
        #expect(try JSONDecoder().decode(GiftExpireJob.Payload.self, from: sample(GiftExpireJob.type)).expiresAt == 1_593_269_124)
        #expect(try JSONDecoder().decode(FreeCreditRequestJob.Payload.self, from: sample(FreeCreditRequestJob.type)).amount == 93)
    }

    @Test("ids: strings and integers decode; spaces, quotes and empty ids do not")
    func identifiers() throws {
        #expect(try JSONDecoder().decode(GiftUsedJob.Payload.self, from: Data(#"{"user_id":7,"user_gift_id":"a-1:b_2.c"}"#.utf8)).userID == "7")
        for bad in [#""a b""#, #""a\"b""#, #""""#, "1.5", "null"] {
            #expect(throws: DecodingError.self) {
                try JSONDecoder().decode(GiftUsedJob.Payload.self, from: Data(#"{"user_id":\#(bad),"user_gift_id":"g"}"#.utf8))
            }
        }
    }

    @Test("every sample validates against its JSON Schema (draft 2020-12)")
    func samplesValidate() async throws {
        let check = ChildProcessProbe.python("import jsonschema")
        try #require(check, "python3 with jsonschema is needed (scripts/install-deps.sh)")
        let script = """
            import json, sys, jsonschema
            for t in sys.argv[1:]:
                schema = json.load(open(f"jobs/schemas/{t}.schema.json"))
                jsonschema.Draft202012Validator.check_schema(schema)
                jsonschema.validate(json.load(open(f"jobs/samples/{t}.json")), schema, cls=jsonschema.Draft202012Validator)
            print("ok")
            """
        let child = try ChildProcess("/bin/sh", ["-c", "cd \"$ROOT\" && python3 -c \"$SCRIPT\" gift.granted gift.used gift.expire freecredit.request"],
                                     environment: ["ROOT": BuiltProducts.projectRoot.path, "SCRIPT": script])
        #expect(await child.wait(timeout: .seconds(60)) == 0, "\(child.output)")
    }
}

/// Whether python3 can run a snippet (for tests that need it).
enum ChildProcessProbe {
    static func python(_ snippet: String) -> Bool {
        guard let child = try? ChildProcess("/usr/bin/env", ["python3", "-c", snippet]) else { return false }
        child.waitBlocking()
        return child.poll() == 0
    }
}
