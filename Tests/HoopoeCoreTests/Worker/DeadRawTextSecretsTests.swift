import HoopoeCore
import HoopoeJSON
import Redis
import Testing

/// A handler whose payloads carry a secret, as `sendinblue.register`'s password.
private struct HoldsPassword: JobHandler {
    struct Payload: Codable, Sendable {
        let user: String
        let password: String
    }
    static let type = "test.holds_password"
    var redactedPayloadKeys: Set<String> { ["password"] }
    func run(_ payload: Payload, context: JobContext) async throws {}
}

/// An envelope that cannot be read is kept in the dead set as its raw text, so a person sees what was sent; but
/// not when that text may hold a secret, even when it was cut off before its `type` (issue 11: a truncated
/// `sendinblue.register` envelope kept the user's password, and `hoopoe dead show` printed it).
@Suite struct DeadRawTextSecretsTests {
    @Test func rawTextThatMayHoldASecretIsWithheld() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(HoldsPassword())
        let stream = h.jobs.keys("default").stream
        let secretBearing = [
            // Cut off: no type was read, the secret key is there.
            #"{"id":"j-cut","payload":{"user":"u","password":"hunter2-cut""#,
            // Not JSON at all, naming the type.
            #"test.holds_password hunter2-named"#,
            // Readable type, a payload the full decoder refuses (lone surrogate).
            #"{"id":"j-surrogate","type":"test.holds_password","payload":{"user":"\ud800","password":"hunter2-surrogate"}}"#,
        ]
        let harmless = #"{"id":"j-harmless","payload":{"user":"u""#
        for body in secretBearing + [harmless] { try await h.redis.send("XADD", stream, "*", "job", body) }
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == secretBearing.count + 1 })
        worker.shutdown()
        try await task.value

        let dead = try await h.jobs.deadJobs(queue: "default")
        let stored = dead.map { String(decoding: $0.encoded(), as: UTF8.self) }.joined(separator: "\n")
        #expect(!stored.contains("hunter2"), "\(stored)")
        #expect(dead.filter { $0.payload.stringValue?.hasPrefix("(raw text withheld:") == true }.count == secretBearing.count)
        // Text that names no secret is kept as sent.
        #expect(dead.contains { $0.payload == .string(harmless) })
    }

    /// Garbled text of a type no handler declares, holding one of the usual names of secrets: withheld, as its readable
    /// payload would lose that key (a review found `hoopoe dead show` printing a cut-off `partner.sync`'s `api_key`).
    /// A declared type's text too (session 61: a garbled `sms.send`'s `api_key` was kept), but for the names of the
    /// paths its handler shows (DeadCutPayloadSecretsTests); its other keys are kept, as its payload shows them.
    @Test func garbledTextOfAnUnknownTypeWithACommonSecretNameIsWithheld() async throws {
        let h = try EngineHarness()
        let registry = JobRegistry.diagnostic
        let stream = h.jobs.keys("default").stream
        let unknownCut = #"{"id":"01JCUT","type":"partner.sync","payload":{"api_key":"sk_live_XYZ""#
        let noTypeCut = #"{"id":"01JNOTYPE","payload":{"token":"tok_live_ABC""#
        let knownSecretCut = #"{"id":"01JKNOWNSECRET","type":"diag.record","payload":{"auth-token":"tok_live_DEF""#
        let knownCut = #"{"id":"01JKNOWN","type":"diag.record","payload":{"tokens":"5","key":"k""#
        for body in [unknownCut, noTypeCut, knownSecretCut, knownCut] { try await h.redis.send("XADD", stream, "*", "job", body) }
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 4 })
        worker.shutdown()
        try await task.value
        let dead = try await h.jobs.deadJobs(queue: "default")
        let stored = dead.map { String(decoding: $0.encoded(), as: UTF8.self) }.joined(separator: "\n")
        #expect(!stored.contains("sk_live_XYZ") && !stored.contains("tok_live_ABC") && !stored.contains("tok_live_DEF"), "\(stored)")
        #expect(dead.filter { $0.payload.stringValue?.hasPrefix("(raw text withheld:") == true }.count == 3)
        #expect(dead.contains { $0.payload == .string(knownCut) }, "a declared type's text without a secret's name is kept")
    }

    /// The type that exempts a declared type's text is the envelope's own, at its top level: one inside the payload
    /// (`{"payload":{"type":"diag.record","api_key":…`) made an unknown type's text look declared, and kept its secret.
    @Test func onlyTheEnvelopesOwnTypeExemptsItsText() {
        // What exempts a name is a path the type's handler shows (sms.send's `tokens.token`): session 61.
        let rule = PayloadRedaction(secretKeys: [:], knownTypes: ["diag.record", "sms.send"], pathsNamedLikeSecrets: ["sms.send": ["tokens.token"]])
        #expect(rule.mayHoldSecrets(rawText: Array(#"{"id":"x","payload":{"type":"sms.send","token":"s""#.utf8)))
        #expect(rule.mayHoldSecrets(rawText: Array(#"{"id":"x","payload":{"type":"sms.send"},"type":"partner.sync","token":"s""#.utf8)))
        #expect(!rule.mayHoldSecrets(rawText: Array(#"{"id":"x","type":"sms.send","payload":{"tokens":{"token":"3""#.utf8)))
        #expect(!rule.mayHoldSecrets(rawText: Array(#"{"id":"x","note":"\"type\":\"y\"","type" : "sms.send","payload":{"tokens":{"token":"3""#.utf8)))
    }

    @Test func theTextSearchNamesTypesAndQuotedKeysOnly() {
        let redaction = PayloadRedaction(secretKeys: ["sendinblue.register": ["password"], "sms.send": []])
        #expect(redaction.mayHoldSecrets(rawText: Array(#"{"payload":{"password":"x""#.utf8)))
        #expect(redaction.mayHoldSecrets(rawText: Array(#"{"payload":{"Password":"x""#.utf8)), "a key in any case")
        #expect(redaction.mayHoldSecrets(rawText: Array("sendinblue.register".utf8)))
        #expect(!redaction.mayHoldSecrets(rawText: Array(#"{"type":"sms.send","payload":{"text":"password"#.utf8)))
        #expect(!redaction.mayHoldSecrets(rawText: []))
    }
}
