import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// Dead reasons for envelopes and payloads that Foundation's decoder refuses with its one message ("the top level: The
/// given data was not valid JSON.", or "should be an object" for a string it cannot read): each now names the field
/// and says what is wrong with it, and an envelope no decoder reads keeps its plainly written id. A real Redis and a
/// worker, as a hostile enqueuer's entries would meet them (XADD of the raw bytes).
@Suite struct DeadReasonWordingTests {
    private static func text(_ string: String) -> [UInt8] { Array(string.utf8) }

    /// An envelope with `id` first, `payload` (raw bytes) and `rest` (raw, after the payload, a leading comma included).
    private static func envelope(_ id: String, payload: [UInt8], rest: String = "") -> [UInt8] {
        text(#"{"id":"\#(id)","type":"diag.record","queue":"default","payload":"#) + payload
            + text(#","attempt":0,"enqueued_at":1795400000.5\#(rest)}"#)
    }

    private static func payload(_ middle: [UInt8]) -> [UInt8] { text(#"{"key":"k","member":"m""#) + middle + text("}") }

    /// XADDs each case's bytes, runs a worker until a good job behind them ran and all are dead, and returns the dead
    /// set's reasons by id.
    private func deadReasons(_ cases: [(id: String, bytes: [UInt8])]) async throws -> [String: String] {
        let h = try EngineHarness()
        var commands: [RedisCommand] = []
        for (_, bytes) in cases {
            var command = RedisCommand("XADD", h.jobs.keys("default").stream, "*", "job")
            command.append(bytes: bytes)
            commands.append(command)
        }
        _ = try await h.redis.pipeline(commands)
        let good = "\(h.namespace):good"
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: good, member: "after"))
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually { try await h.recorded(good)["after"] == 1 })
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == cases.count })
        worker.shutdown()
        try await task.value
        let dead = try await h.jobs.deadJobs(queue: "default", limit: 1000)
        return Dictionary(dead.map { ($0.id, $0.deadReason ?? "") }, uniquingKeysWith: { first, _ in first })
    }

    /// Finding 1: a number a whole-number field cannot hold, in valid JSON.
    @Test func aNumberThatDoesNotFitAWholeNumberFieldIsNamed() async throws {
        let cases: [(id: String, bytes: [UInt8], reason: String)] = [
            ("w1", Self.envelope("w1", payload: Self.payload(Self.text(#","sleep_ms":2.5"#))), "payload.sleep_ms must be a whole number (got 2.5)"),
            ("w2", Self.envelope("w2", payload: Self.payload(Self.text(#","sleep_ms":1e300"#))), "payload.sleep_ms is out of range for its field (got 1e300)"),
            ("w3", Self.envelope("w3", payload: Self.payload(Self.text(#","ttl_seconds":-0.25"#))), "payload.ttl_seconds must be a whole number (got -0.25)"),
            ("w4", Self.envelope("w4", payload: Self.payload(Self.text(#","ttl_seconds":1e19"#))), "payload.ttl_seconds is out of range for its field (got 1e19)"),
        ]
        let reasons = try await deadReasons(cases.map { ($0.id, $0.bytes) })
        for (id, _, reason) in cases {
            #expect(reasons[id]?.hasSuffix("payload does not match diag.record (Payload): \(reason)") == true, "\(id): \(reasons[id] ?? "not dead")")
        }
    }

    /// `2^70`: its digits are masked as a phone number would be (as every reason is), the field still named.
    @Test func aHugeIntegerIsNamedToo() async throws {
        let bytes = Self.envelope("w5", payload: Self.payload(Self.text(#","sleep_ms":1180591620717411303424"#)))
        let reason = try await deadReasons([("w5", bytes)])["w5"] ?? "not dead"
        #expect(reason.contains("payload does not match diag.record (Payload): payload.sleep_ms is out of range for its field (got "), "\(reason)")
        #expect(!reason.contains("not valid JSON"), "\(reason)")
    }

    /// Finding 2: text that is not UTF-8, or a lone surrogate escape, in a string.
    @Test func textThatIsNotUTF8IsNamedNotCalledAnObject() async throws {
        func member(_ bytes: [UInt8]) -> [UInt8] { Self.text(#"{"key":"k","member":"a"#) + bytes + Self.text(#"b"}"#) }
        let cases: [(id: String, bytes: [UInt8], reason: String)] = [
            ("u1", Self.envelope("u1", payload: Self.text(#"{"key":"a"#) + [0xC3, 0x28] + Self.text(#"","member":"m"}"#)),
                "payload.key is not valid UTF-8 text (byte 69)"),
            ("u2", Self.envelope("u2", payload: member([0xED, 0xA0, 0x80])), "payload.member is not valid UTF-8 text (byte 82)"),
            ("u3", Self.envelope("u3", payload: member([0xC0, 0xAF])), "payload.member is not valid UTF-8 text (byte 82)"),
        ]
        // notify: bytes that are not UTF-8 in an envelope field (read by the reason's `kind` as JSONValue).
        let notify = Self.envelope("u6", payload: Self.payload([])).dropLast() + Self.text(#","notify":""#) + [0xFF] + Self.text(#""}"#)
        let reasons = try await deadReasons(cases.map { ($0.id, $0.bytes) } + [("u6", Array(notify))])
        for (id, _, reason) in cases {
            #expect(reasons[id] == "not a valid job envelope: \(reason)", "\(id): \(reasons[id] ?? "not dead")")
        }
        #expect(reasons["u6"]?.hasPrefix("not a valid job envelope: notify is not valid UTF-8 text (byte ") == true, "\(reasons["u6"] ?? "not dead")")
        #expect(!reasons.values.contains { $0.contains("an object") || $0.contains("Dictionary") }, "\(reasons)")
    }

    /// A lone surrogate escape in a payload string: the reason names the field and the escape. Before, the one-pass scan
    /// took the envelope, the handler's decode refused it, and the burial read the reason from the envelope's decoder:
    /// "payload should be an object". With a trailing comma before it (which the decoder takes), the surrogate is
    /// still the one named, not the comma.
    @Test func aLoneSurrogateEscapeIsNamedWithItsField() async throws {
        let note = "(half of a UTF-16 surrogate pair without its other half: it stands for no character)"
        let cases: [(id: String, bytes: [UInt8], reason: String)] = [
            ("s1", Self.envelope("s1", payload: Self.text(#"{"key":"k","member":"\ud800"}"#)),
                #"payload.member holds a lone surrogate escape \ud800 at byte 81 "# + note),
            ("s2", Self.envelope("s2", payload: Self.text(#"{"key":"k","list":[1,],"member":"\ud800"}"#)),
                #"payload.member holds a lone surrogate escape \ud800 at byte 93 "# + note),
        ]
        let reasons = try await deadReasons(cases.map { ($0.id, $0.bytes) })
        for (id, _, reason) in cases {
            #expect(reasons[id] == "not a valid job envelope: \(reason)", "\(id): \(reasons[id] ?? "not dead")")
        }
    }

    /// Foundation's decoder takes one comma before a closing bracket (`[1,]`, `{"a":1,}`; not JSON, but its choice:
    /// swift-corelibs-foundation#4682), so a payload holding one runs. When it is refused for another reason, that
    /// reason is named, not the comma the decoder took.
    @Test func aTrailingCommaIsNotBlamedForWhatTheDecoderRefused() async throws {
        let bytes = Self.envelope("c1", payload: Self.payload(Self.text(#","sleep_ms":2.5,"#)))
        let reason = try await deadReasons([("c1", bytes)])["c1"] ?? "not dead"
        #expect(reason.hasSuffix("payload does not match diag.record (Payload): payload.sleep_ms must be a whole number (got 2.5)"), "\(reason)")
    }

    /// Finding 3: envelopes no decoder reads; each names what is wrong, and each is filed under its id.
    @Test func anUnreadableEnvelopeSaysWhyAndKeepsItsID() async throws {
        func withAttempt(_ id: String, _ attempt: String) -> [UInt8] {
            Self.text(#"{"id":"\#(id)","type":"diag.record","payload":{"key":"k","member":"m"},"attempt":\#(attempt)}"#)
        }
        // `{"id":"x1","type":"diag.record","payload":{"key":"k","member":"m"},"attempt":` is 77 bytes. `deep(511)`: the
        // envelope, its payload and 511 arrays, one level more than the decoder reads.
        let deep = { (depth: Int) in
            Self.text(#"{"id":"d\#(depth)","type":"diag.record","payload":{"key":"k","member":"m","x":"#)
                + Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth) + Self.text("}}")
        }
        let cases: [(id: String, bytes: [UInt8], reason: String)] = [
            ("x1", withAttempt("x1", "007"), "attempt: a number with a leading zero at byte 77"),
            ("x2", withAttempt("x2", "+1"), "attempt: a number with a plus sign at byte 77"),
            ("x3", withAttempt("x3", ".5"), "attempt: a number without a digit before its point at byte 77"),
            ("x4", withAttempt("x4", "0x10"), "unexpected 'x' after attempt at byte 78 (expected ',' or '}')"),
            ("x5", withAttempt("x5", "NaN"), "attempt: 'NaN' is not a JSON value (JSON has only true, false and null) at byte 77"),
            // Another unquoted word may be a secret's value (`"password":hunter2`): described, never quoted.
            ("x9", withAttempt("x9", "hunter2"), "attempt: an unquoted word is not a JSON value (JSON has only true, false and null) at byte 77"),
            ("x6", withAttempt("x6", "-Infinity"), "attempt: a number with no digits after its '-' at byte 77"),
            ("x7", withAttempt("x7", "0") + Self.text(" garbage"), "text after the end of the JSON value at byte 80"),
            ("x8", Array(withAttempt("x8", "0").dropLast()), "the text ends at byte 78 inside an object"),
            ("d511", deep(511), "nesting deeper than 512 levels at byte 582"),
            ("d100000", deep(100_000), "nesting deeper than 512 levels at byte 585"),
        ]
        let reasons = try await deadReasons(cases.map { ($0.id, $0.bytes) })
        for (id, _, reason) in cases {
            // A long text is kept cut, and the reason says so after the problem.
            #expect(reasons[id]?.hasPrefix("not a valid job envelope: \(reason)") == true, "\(id): \(reasons[id] ?? "not dead: \(reasons.keys.sorted())")")
        }
    }

    /// The tolerant id scan files nothing under an id it cannot trust: escaped, invalid by the id rule, or given twice.
    @Test func anIDThatCannotBeTrustedIsNotRecovered() {
        for text in [
            #"{"id":"a\u0062","type":"diag.record","attempt":007}"#,
            #"{"id":"a b","type":"diag.record","attempt":007}"#,
            #"{"id":"a","id":"b","type":"diag.record","attempt":007}"#,
            #"{"payload":{"id":"inner"},"attempt":007}"#,
            #"{"id":"trunc"#,
        ] {
            let id = EnvelopeIdentityScan.scan(Array(text.utf8)).id
            #expect(id == nil, "\(text): \(id ?? "")")
        }
    }

    /// `hoopoe enqueue`'s check decodes the payload alone: the same wording, the path within the payload.
    @Test func thePayloadCheckNamesTheField() {
        var registry = JobRegistry()
        registry.register(DiagRecordJob())
        let problem = registry.payloadProblem(type: "diag.record", payload: Self.payload(Self.text(#","sleep_ms":2.5"#)))
        #expect(problem == "payload does not match diag.record (Payload): sleep_ms must be a whole number (got 2.5)")
        // A field that takes a fraction is not the one named.
        let fine = registry.payloadProblem(type: "diag.record", payload: Self.payload(Self.text(#","sleep_ms":5"#)))
        #expect(fine == nil)
    }

    /// The text check and the decoder agree: what one refuses the other does, so a reason never blames sound text.
    @Test func theTextCheckRefusesWhatTheDecoderRefuses() {
        func nested(_ depth: Int) -> [UInt8] { Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth) }
        let refused: [[UInt8]] = [
            Self.text("[007]"), Self.text("[+1]"), Self.text("[.5]"), Self.text("[1.]"), Self.text("[1e]"), Self.text("[-]"), Self.text("[0x10]"),
            Self.text("[NaN]"), Self.text("[Infinity]"), Self.text("[1] x"), Self.text("{\"a\":1"), Self.text("{\"a\" 1}"),
            Self.text(#"["\ud800"]"#), Self.text(#"["\udc00x"]"#), Self.text(#"["\ud800\u0041"]"#), Self.text(#"["\q"]"#), Self.text("[\"a\u{1}\"]"),
            Self.text("[\"") + [0xC3, 0x28] + Self.text("\"]"), Self.text("[\"") + [0xED, 0xA0, 0x80] + Self.text("\"]"),
            Self.text("[\"") + [0xC0, 0xAF] + Self.text("\"]"), Self.text("[\"") + [0xF4, 0x90, 0x80, 0x80] + Self.text("\"]"),
            Self.text("[\"") + [0xE2, 0x82] + Self.text("\"]"), Self.text(""), Self.text("[tru]"), nested(513),
            // More than the one comma the decoder takes before a closing bracket, or one with nothing before it.
            Self.text("[,]"), Self.text("[1,,]"), Self.text("[,1]"), Self.text("{,}"), Self.text(#"{"a":1,,}"#), Self.text(#"{,"a":1}"#),
            Self.text("1,"), Self.text(#"{"a":[1,],"b":"\ud800"}"#),
        ]
        let accepted: [[UInt8]] = [
            Self.text(#"{"a":[1,-0,2.5e-3,1E+2,"x\u00e9\ud83d\ude00",true,false,null],"b":{}}"#),
            Self.text("[\"") + Array("é€😀".utf8) + Self.text("\"]"), Self.text(" 0 "), nested(512),
            // One comma before a closing bracket: not JSON, but Foundation's decoder takes it (swift-corelibs-foundation#4682).
            Self.text("[1,]"), Self.text("[1 , ]"), Self.text("[1,\n]"), Self.text(#"{"a":1,}"#), Self.text(#"{"a":1 , }"#), Self.text("[[1,],]"),
            Self.text(#"{"a":{"b":[1,2,],},}"#),
        ]
        for bytes in refused {
            let decoded = (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))) != nil
            #expect(!decoded, "the decoder read \(bytes)")
            if case .success = JSONTextProblem.check(bytes) { Issue.record("no problem found in \(String(decoding: bytes, as: UTF8.self))") }
        }
        for bytes in accepted {
            #expect((try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))) != nil)
            if case .failure(let problem) = JSONTextProblem.check(bytes) { Issue.record("\(problem)") }
        }
    }
}
