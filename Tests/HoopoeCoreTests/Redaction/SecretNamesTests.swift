import HoopoeCore
import HoopoeJSON
import Testing

/// The usual names of secrets (``PayloadRedaction/isCommonSecretName(_:)``) were matched exactly: `api-key` (Brevo's own
/// header), `x-api-key`, `client_secret`, `auth_token`, `private_key`, `secret_key` were printed by the job page and
/// `hoopoe job show`, only `Api_Key` left out. Names are now lower-cased without `-` and `_`, and matched by part (or,
/// for `token`, by ending); counts and lists of tokens stay (decision 0107, amended in session 61).
@Suite struct SecretNamesTests {
    @Test func theUsualNamesAreMatchedInEverySpelling() {
        for name in [
            "api-key", "x-api-key", "X-API-KEY", "Api_Key", "apiKey", "brevo_api_key", "client_secret", "clientSecret", "secret_key", "secret",
            "auth_token", "accessToken", "refresh-token", "token", "private_key", "privateKey", "auth_key", "Authorization",
            "proxy-authorization", "credentials", "db_password", "PASSWD", "passphrase",
        ] {
            #expect(PayloadRedaction.isCommonSecretName(name), "\(name)")
        }
    }

    @Test func namesThatOnlyHoldTokenOrKeyStay() {
        for name in ["key", "keys", "tokens", "token_count", "max_tokens", "token_type", "token2", "token10", "tokenizer", "author", "monkey", "user_id", "phone"] {
            #expect(!PayloadRedaction.isCommonSecretName(name), "\(name)")
        }
    }

    /// The review's case: a declared type without secrets of its own (`diag.record`), enqueued with every spelling.
    @Test func aShownPayloadLosesEverySpelling() {
        let rule = PayloadRedaction(secretKeys: [:], knownTypes: ["diag.record", "sms.send"], pathsNamedLikeSecrets: ["sms.send": ["tokens.token"]])
        let payload: JSONValue = [
            "key": "hoopoe:diag", "api-key": "xkeysib-abc123", "x-api-key": "k2", "client_secret": "cs", "auth_token": "at",
            "private_key": "-----BEGIN", "secret_key": "sk", "Api_Key": "caught", "token_count": 3,
        ]
        #expect(rule.shown(payload, type: "diag.record") == ["key": "hoopoe:diag", "token_count": 3])
        #expect(rule.stripped(payload, type: "diag.record") == payload, "the dead-set copy of a declared type keeps them")
        #expect(rule.withheldKeys(payload, type: "partner.sync") == [
            "Api_Key", "api-key", "auth_token", "client_secret", "private_key", "secret_key", "x-api-key",
        ])
        let sms: JSONValue = ["tokens": ["token": "3", "token2": "Sara", "auth-token": "t"], "x-api-key": "k"]
        #expect(rule.shown(sms, type: "sms.send") == ["tokens": ["token": "3", "token2": "Sara"]])
    }

    /// A known type's text that cannot be read as JSON (garbled, or cut) is withheld when it quotes a usual name of a
    /// secret, but for the last segment of the paths its handler shows (`sms.send`'s `token`): a garbled `sms.send`
    /// holding `"api_key"` was kept whole.
    @Test func aKnownTypesTextQuotingASecretNameMayHoldOne() {
        let rule = PayloadRedaction(secretKeys: [:], knownTypes: ["diag.record", "sms.send"], pathsNamedLikeSecrets: ["sms.send": ["tokens.token"]])
        func holds(_ text: String, _ type: String? = nil) -> Bool { rule.mayHoldSecrets(rawText: Array(text.utf8), type: type) }
        #expect(holds(#"{"id":"m","type":"sms.send","payload":{"api_key":"LEAKMAL1","tokens":{"token":"3"}"#))
        #expect(holds(#"{"id":"m","type":"sms.send","payload":{"X-Api-Key":"k""#))
        #expect(holds(#"{"api-key":"k","tokens":{"token":"3"}"#, "sms.send"), "a cut payload's text, its type given")
        #expect(holds(#""{\"client_secret\":\"s\"}"#, "sms.send"), "escaped quotes: JSON held in a string")
        #expect(!holds(#"{"id":"m","type":"sms.send","payload":{"tokens":{"token":"3","token2":"x"}"#))
        #expect(!holds(#"{"tokens":{"token":"3"},"text":"your password was reset"}"#, "sms.send"), "a word in a sentence is no key")
        #expect(holds(#"{"id":"d","type":"diag.record","payload":{"token":"3""#), "diag.record shows no path named token")
    }

    /// Text the dead set kept where a payload was, as an earlier release stored it, is withheld when shown.
    @Test func keptTextQuotingASecretNameIsWithheldWhenShown() {
        let rule = PayloadRedaction(secretKeys: [:], knownTypes: ["sms.send"], pathsNamedLikeSecrets: ["sms.send": ["tokens.token"]])
        var cut = JobEnvelope(id: "big1", type: "sms.send", queue: "default", payload: .string(#"{"api_key":"LEAKBIG1","tokens":{"token":"3"},"blob":"xxx"#))
        cut.deadReason = "envelope is 614400 bytes (the dead set keeps the first 65536 bytes of its payload's 614300, as text)"
        #expect(rule.redacted(cut).payload == .string(PayloadRedaction.withheldTextNote))
        cut.payload = .string(#"{"blob":"xxx","phone":"09121234567","tokens":{"token":"3"#)
        #expect(rule.redacted(cut).payload == .string(#"{"blob":"xxx","phone":"0912****567","tokens":{"token":"3"#), "no secret name: shown, masked")
        let garbled = JobEnvelope(
            id: "mal1", type: "(malformed)", queue: "default", payload: .string(#"{"id":"mal1","type":"sms.send","payload":{"api_key":"LEAKMAL1","n":"\ud800"}}"#))
        #expect(rule.redacted(garbled).payload == .string(PayloadRedaction.withheldTextNote))
        let harmless = JobEnvelope(
            id: "mal2", type: "(malformed)", queue: "default", payload: .string(#"{"id":"mal2","type":"sms.send","payload":{"tokens":{"token":"3"},"n":"\ud800"}}"#))
        #expect(rule.redacted(harmless).payload == harmless.payload)
        // A payload that is a string and no kept text is not searched: a sentence quoting a name is no secret.
        let sentence = JobEnvelope(id: "s1", type: "sms.send", queue: "default", payload: .string(#"say "password" twice"#))
        #expect(rule.redacted(sentence).payload == sentence.payload)
    }

    /// Before a payload too large to keep whole is cut to text, it loses the usual names of secrets but the paths its
    /// handler shows.
    @Test func aPayloadToCutLosesTheUsualNamesButTheShownPaths() {
        let rule = PayloadRedaction(secretKeys: ["x.reg": ["pin"]], knownTypes: ["sms.send", "x.reg"], pathsNamedLikeSecrets: ["sms.send": ["tokens.token"]])
        let payload: JSONValue = ["api_key": "k", "tokens": ["token": "3"], "phone": "09121234567", "pin": "1234"]
        #expect(rule.withoutSecretNames(payload, type: "sms.send") == ["tokens": ["token": "3"], "phone": "09121234567", "pin": "1234"])
        #expect(rule.withoutSecretNames(payload, type: "x.reg") == ["tokens": [:], "phone": "09121234567"])
    }
}
