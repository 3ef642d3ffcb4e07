import HoopoeCore
import HoopoeJSON
import Testing

/// The one rule for payloads that leave the engine: a type's secret keys go, phone numbers are masked.
@Suite struct PayloadRedactionTests {
    let redaction = PayloadRedaction(secretKeys: ["sendinblue.register": ["password"]])

    @Test func removesTheTypesSecretKeysAndMasksPhones() {
        let payload: JSONValue = ["password": "hunter2", "phone": "09121234567", "nested": ["mobile": 989121234567], "user_id": 42]
        let shown = redaction.shown(payload, type: "sendinblue.register")
        #expect(shown == ["phone": "0912****567", "nested": ["mobile": "98912****567"], "user_id": 42])
    }

    @Test func otherTypesKeepTheirKeysButNotTheirPhones() {
        let payload: JSONValue = ["password": "kept", "phone": "+989121234567"]
        #expect(redaction.stripped(payload, type: "sms.send") == ["password": "kept", "phone": "+989121234567"])
        #expect(redaction.shown(payload, type: "sms.send") == ["phone": "+9891*****567"], "shown, the usual names go (decision 0107)")
    }

    @Test func theStoredCopyKeepsPhonesForTheRetry() {
        #expect(redaction.stripped(["password": "x", "phone": "09121234567"], type: "sendinblue.register") == ["phone": "09121234567"])
    }

    @Test func anEnvelopesFreeTextIsMaskedToo() {
        var envelope = JobEnvelope(type: "sendinblue.register", payload: ["password": "x"], uniqueKey: "sms-09121234567")
        envelope.lastError = "Kavenegar refused 09121234567"
        let shown = redaction.redacted(envelope)
        #expect(shown.payload == [:])
        #expect(shown.lastError == "Kavenegar refused 0912****567")
        #expect(shown.uniqueKey == "sms-0912****567")
        #expect(redaction.carriesSecrets("sendinblue.register") && !redaction.carriesSecrets("sms.send"))
    }

    /// A client's own fields beside the payload lose the usual names of secrets, as a payload does (decision 0107):
    /// an `api_key` next to `payload` was printed by `job show --json` and `dead show --json`.
    @Test func anEnvelopesUnknownFieldsLoseSecretNames() {
        var envelope = JobEnvelope(type: "sms.send", payload: [:])
        envelope.otherFields = ["api_key": "k-1", "meta": ["Token": "t-1", "phone": "09121234567", "note": "kept"]]
        #expect(redaction.redacted(envelope).otherFields == ["meta": ["phone": "0912****567", "note": "kept"]])
    }

    /// jobs/conformance/redaction.json's `payloads` under its `rule`, the vectors jobs/examples/hoopoe_enqueue.py's copy
    /// of the rule runs too (DomainJobsRedactionVectorsTests, in HoopoeJobsTests, checks the `rule` is this build's handlers').
    @Test func theSharedVectorsAreShownAsTheySay() throws {
        let vectors = try ConformanceTests.vectors("redaction.json")
        let rule = try #require(vectors["rule"])
        var secretKeys: [String: Set<String>] = [:]
        if case .object(let map)? = rule["secret_keys"] {
            for (type, keys) in map { secretKeys[type] = Set(keys.arrayValue?.compactMap(\.stringValue) ?? []) }
        }
        let known = Set(rule["known_types"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(Set(rule["common_secret_keys"]?.arrayValue?.compactMap(\.stringValue) ?? []) == PayloadRedaction.commonSecretKeys)
        #expect(Set(rule["common_secret_endings"]?.arrayValue?.compactMap(\.stringValue) ?? []) == PayloadRedaction.commonSecretEndings)
        var namedLikeSecrets: [String: Set<String>] = [:]
        if case .object(let map)? = rule["paths_named_like_secrets"] {
            for (type, paths) in map { namedLikeSecrets[type] = Set(paths.arrayValue?.compactMap(\.stringValue) ?? []) }
        }
        #expect(!namedLikeSecrets.isEmpty)
        let redaction = PayloadRedaction(secretKeys: secretKeys, knownTypes: known, pathsNamedLikeSecrets: namedLikeSecrets)
        let cases = try #require(vectors["payloads"]?.arrayValue)
        #expect(cases.count >= 5)
        for item in cases {
            let type = try #require(item["type"]?.stringValue)
            #expect(redaction.shown(try #require(item["payload"]), type: type) == item["shown"], "\(item["why"]?.stringValue ?? type)")
        }
    }

    /// Shown, a declared type's payload loses the usual names of secrets at any depth, but for the paths its handler
    /// reads that only look like secrets (decision 0107): an `api_key` a client put in an `sms.send` was printed by the
    /// dashboard's job page and `hoopoe job show` while its dead-set copy rightly kept it.
    @Test func aShownPayloadLosesTheUsualNamesOfSecretsButTheHandlersOwnPaths() {
        let rule = PayloadRedaction(
            secretKeys: [:], knownTypes: ["sms.send", "gift.expire"], pathsNamedLikeSecrets: ["sms.send": ["tokens.token"]])
        let payload: JSONValue = [
            "phone": "09121234567", "api_key": "k", "tokens": ["token": "3", "token2": "x"], "meta": ["Secret": "s", "items": [["token": "t"]]],
        ]
        #expect(rule.stripped(payload, type: "sms.send") == payload, "the dead-set copy keeps them")
        #expect(rule.shown(payload, type: "sms.send") == [
            "phone": "0912****567", "tokens": ["token": "3", "token2": "x"], "meta": ["items": [[:]]],
        ])
        #expect(rule.shown(payload, type: "gift.expire") == [
            "phone": "0912****567", "tokens": ["token2": "x"], "meta": ["items": [[:]]],
        ], "another type does not keep sms.send's path")
        let envelope = JobEnvelope(id: "j1", type: "sms.send", queue: "default", payload: payload)
        #expect(rule.redacted(envelope).payload == rule.shown(payload, type: "sms.send"))
    }

    /// A type no handler declares: its payload loses every declared secret key and the common ones, at any depth; a
    /// declared type without secrets keeps its keys in the dead-set copy (its handler may read them; a retry runs with
    /// it).
    @Test func aTypeNoHandlerDeclaresLosesEverySecretKeyAtAnyDepth() {
        let rule = PayloadRedaction(secretKeys: ["credit.threshold.set": ["auth_key"]], knownTypes: ["credit.threshold.set", "sms.send"])
        let payload: JSONValue = [
            "password": "hunter2", "user": ["auth_key": "k", "name": "Sara", "tokens": [["api_key": "a", "id": 1]]], "email": "s@example.com",
        ]
        let expected: JSONValue = ["user": ["name": "Sara", "tokens": [["id": 1]]], "email": "s@example.com"]
        #expect(rule.stripped(payload, type: "Sendinblue.register") == expected)
        #expect(rule.shown(payload, type: "no.such.type") == ["user": ["name": "Sara", "tokens": [["id": 1]]], "email": "s***@example.com"])
        #expect(rule.stripped(payload, type: "sms.send") == payload)
        #expect(rule.stripped(payload, type: "credit.threshold.set") == [
            "password": "hunter2", "user": ["name": "Sara", "tokens": [["api_key": "a", "id": 1]]], "email": "s@example.com",
        ], "a declared type loses only its own keys, at any depth")
        // A payload of a declared type sent JSON-encoded twice, or as a list: its keys go from inside too (buried as it
        // came, it kept the secret in the dead set).
        let twice = JSONValue.string(#"{"auth_key":"k","user_id":"7"}"#)
        #expect(rule.stripped(twice, type: "credit.threshold.set") == .string(#"{"user_id":"7"}"#))
        #expect(rule.stripped([twice, ["Auth_Key": "k"]], type: "credit.threshold.set") == [.string(#"{"user_id":"7"}"#), [:]])
        #expect(rule.stripped(.string("{not json auth_key"), type: "credit.threshold.set") == .string("{not json auth_key"))
        // Raw text holding the key escaped (JSON in JSON) is withheld.
        #expect(rule.mayHoldSecrets(rawText: Array(#"{"type":"x.y","payload":"{"auth_key":"k"}"#.utf8), type: "x.y"))
    }

    /// What the unknown-type rule removes is named, as paths: the dead copy says so, and a retry refuses it. A declared
    /// type's own secret keys are not named: its handler knows they are never kept (sendinblue.register's password).
    @Test func theKeysATypeNoHandlerDeclaresLosesAreNamedAsPaths() {
        let rule = PayloadRedaction(secretKeys: ["credit.threshold.set": ["auth_key"]], knownTypes: ["credit.threshold.set", "sms.send"])
        let payload: JSONValue = [
            "password": "hunter2", "user": ["Auth_Key": "k", "name": "Sara", "tokens": [["api_key": "a", "id": 1]]], "email": "s@example.com",
        ]
        #expect(rule.withheldKeys(payload, type: "no.such.type") == ["password", "user.Auth_Key", "user.tokens[0].api_key"])
        #expect(rule.withheldKeys(payload, type: "credit.threshold.set").isEmpty)
        #expect(rule.withheldKeys(payload, type: "sms.send").isEmpty)
        #expect(rule.withheldKeys(["name": "x"], type: "no.such.type").isEmpty)
    }

    /// A field named as a phone is masked by its name, whatever its value looks like: `"phone":"0912123"`, too short
    /// for the scanner, was printed whole by `hoopoe dead show` and the dashboard's job page under its own reason
    /// `phone *****23 is not an Iranian mobile number`. One rule for every length (``PhoneNumberMask/maskNumber(_:)``).
    @Test func aPhoneFieldIsMaskedWhateverItsShape() {
        let payload: JSONValue = [
            "phone": "0912123", "message_id": "m-1", "tokens": ["token": "1234"],
            "nested": [
                "receptor": "12345", "mobile_number": 912123, "receptors": ["0912", "+98 912", 9121234567], "userPhone": "ab-12",
                "phone_verified": true, "phone_count": 3, "recipient": "sara@example.com",
            ],
            "full": "09121234567", "twice": .string(#"{"phone":"0912123","note":"x"}"#),
        ]
        #expect(PayloadRedaction.maskingPersonalData(payload) == [
            "phone": "*****23", "message_id": "m-1", "tokens": ["token": "1234"],
            "nested": [
                "receptor": "***45", "mobile_number": "****23", "receptors": ["**12", "*****12", "912****567"], "userPhone": "***12",
                "phone_verified": true, "phone_count": 3, "recipient": "s***@example.com",
            ],
            "full": "0912****567", "twice": .string(#"{"note":"x","phone":"*****23"}"#),
        ])
        // The reason's mask and the payload's agree; the dead-set copy keeps the number for a retry.
        var envelope = JobEnvelope(type: "sms.send", payload: ["phone": "0912123", "template": "t"])
        envelope.deadReason = "phone *****23 is not an Iranian mobile number (09…, +989…, 00989…)"
        #expect(redaction.redacted(envelope).payload == ["phone": "*****23", "template": "t"])
        #expect(redaction.stripped(envelope.payload, type: "sms.send") == ["phone": "0912123", "template": "t"])
        // Full numbers under a phone name are masked as the scanner masks them.
        for number in ["09121234567", "+989121234567", "9121234567", "00989121234567"] {
            #expect(PayloadRedaction.maskingPersonalData(["phone": .string(number)]) == ["phone": .string(PhoneNumberMask.mask(number))])
        }
    }

    /// The names of phone fields: the job types' `phone`, the providers' `receptor`, the usual spellings, by ending.
    @Test func phoneFieldNamesMatchByEnding() {
        for name in ["phone", "Phone", "PHONE", "user_phone", "phoneNumber", "phone-number", "mobile", "mobile_numbers", "receptor",
                     "receptors", "msisdn", "telephone", "cellphone", "phones", "userPhone", "user.phone", "USER_PHONE", "user_telephone",
                     "phone_", "workMobile"] {
            #expect(PhoneFieldNames.matches(name), "\(name)")
        }
        // `phone` or `mobile` ended by other letters names no phone; Brevo's `recipient` is an email's recipient.
        for name in ["phone_verified", "phone_count", "template", "message_id", "token", "email", "phonebook", "microphone",
                     "headphone", "headphones", "automobile", "USERPHONE", "recipient", "recipients"] {
            #expect(!PhoneFieldNames.matches(name), "\(name)")
        }
    }

    /// Under a phone name only a number or a string holding a digit is masked as a phone; an object is walked as any
    /// other (a `phone` inside it still masked by its name), a word is kept. Session 63's diff read: Brevo's
    /// `recipient` object was shown as `"user_id":"**"`, `"name":"**ra"`, `"status":"*******ed"` (and the dashboard's
    /// search, which matches what is shown, no longer found `recipient=42`), `recipients[].delivered_at` lost its
    /// times, `"mobile":"android"` became `"*****id"`, and `microphone` matched by its ending.
    @Test func onlyWhatHoldsADigitIsMaskedAsAPhone() {
        let payload: JSONValue = [
            "recipient": ["user_id": 42, "name": "Sara", "status": "delivered"],
            "recipients": [["phone": "0912123", "delivered_at": "2026-12-07T10:15:00Z"]],
            "mobile": "android", "microphone": "USB 2", "headphone": 3,
            "phone": ["number": "0912123", "label": "home", "mobile": "0912123", "verified": true],
            "phones": ["0912123", 9121234567, ["owner": "Sara"]],
            "receptor": "۰۹۱۲۱۲۳", "user_phone": "0912123", "cellphone": "sara@example.com",
        ]
        #expect(PayloadRedaction.maskingPersonalData(payload) == [
            "recipient": ["user_id": 42, "name": "Sara", "status": "delivered"],
            "recipients": [["phone": "*****23", "delivered_at": "2026-12-07T10:15:00Z"]],
            "mobile": "android", "microphone": "USB 2", "headphone": 3,
            "phone": ["number": "0912123", "label": "home", "mobile": "*****23", "verified": true],
            "phones": ["*****23", "912****567", ["owner": "Sara"]],
            "receptor": "*****۲۳", "user_phone": "*****23", "cellphone": "s***@example.com",
        ])
        // A short number under `phone` is still masked, as the dead reason beside it masks it.
        #expect(PayloadRedaction.maskingPersonalData(["phone": "0912123"]) == ["phone": "*****23"])
        #expect(PayloadRedaction.maskingPersonalData(["phone": 912123]) == ["phone": "****23"])
    }
}
