import HoopoeCore
import HoopoeJSON
import Testing

/// The one rule for payloads that leave the engine: a type's secret keys go, phone numbers are masked.
@Suite struct PayloadRedactionTests {
    let redaction = PayloadRedaction(secretKeys: ["sendinblue.register": ["password"]])

    @Test func removesTheTypesSecretKeysAndMasksPhones() {
        let payload: JSONValue = ["password": "hunter2", "phone": "09121234567", "nested": ["mobile": 989121234567], "user_id": 42]
        let shown = redaction.shown(payload, type: "sendinblue.register")
        #expect(shown == ["phone": "09121***567", "nested": ["mobile": "98912****567"], "user_id": 42])
    }

    @Test func otherTypesKeepTheirKeysButNotTheirPhones() {
        let shown = redaction.shown(["password": "kept", "phone": "+989121234567"], type: "sms.send")
        #expect(shown == ["password": "kept", "phone": "+9891*****567"])
    }

    @Test func theStoredCopyKeepsPhonesForTheRetry() {
        #expect(redaction.stripped(["password": "x", "phone": "09121234567"], type: "sendinblue.register") == ["phone": "09121234567"])
    }

    @Test func anEnvelopesFreeTextIsMaskedToo() {
        var envelope = JobEnvelope(type: "sendinblue.register", payload: ["password": "x"], uniqueKey: "sms-09121234567")
        envelope.lastError = "Kavenegar refused 09121234567"
        let shown = redaction.redacted(envelope)
        #expect(shown.payload == [:])
        #expect(shown.lastError == "Kavenegar refused 09121***567")
        #expect(shown.uniqueKey == "sms-09121***567")
        #expect(redaction.carriesSecrets("sendinblue.register") && !redaction.carriesSecrets("sms.send"))
    }

    /// A type no handler declares: its payload loses every declared secret key and the common ones, at any depth; a
    /// declared type without secrets keeps its keys.
    @Test func aTypeNoHandlerDeclaresLosesEverySecretKeyAtAnyDepth() {
        let rule = PayloadRedaction(secretKeys: ["credit.threshold.set": ["auth_key"]], knownTypes: ["credit.threshold.set", "sms.send"])
        let payload: JSONValue = [
            "password": "hunter2", "user": ["auth_key": "k", "name": "Sara", "tokens": [["api_key": "a", "id": 1]]], "email": "s@example.com",
        ]
        let expected: JSONValue = ["user": ["name": "Sara", "tokens": [["id": 1]]], "email": "s@example.com"]
        #expect(rule.stripped(payload, type: "Sendinblue.register") == expected)
        #expect(rule.shown(payload, type: "no.such.type") == expected)
        #expect(rule.stripped(payload, type: "sms.send") == payload)
        #expect(rule.stripped(payload, type: "credit.threshold.set") == payload, "a declared type loses only its own keys, at the top")
    }
}
