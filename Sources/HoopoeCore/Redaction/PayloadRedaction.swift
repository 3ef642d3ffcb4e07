import HoopoeJSON

/// The one rule applied wherever a job's payload leaves the engine: the dead set, `hoopoe job show`,
/// `hoopoe dead show` / `list`, logs.
///
/// Two steps, always both:
/// 1. The keys the type's handler names in ``JobHandler/redactedPayloadKeys`` are removed (a user's password in
///    `sendinblue.register`, a Brevo auth key in `credit.threshold.set`), at any depth and inside strings that hold
///    JSON (a payload of the wrong shape is buried as it came). Removed, not replaced: the dead-set copy is what a
///    retry runs with, and a placeholder would be sent on as if it were the secret.
/// 2. Every string (and every integer) that looks like a phone number or an email address is masked
///    (``PersonalDataMask``), and every number, or string holding a digit, in a field named as a phone (``PhoneFieldNames``).
///
/// A type no handler declares (a misspelt type, one only another deployment runs) has no keys of its own to name, so
/// its payload loses, at any depth, every key any handler declares secret and every key named like a secret
/// (``isCommonSecretName(_:)``): a `Sendinblue.register` sent by mistake is buried as an unknown type without its password.
///
/// Shown (``shown(_:type:)``, ``redacted(_:)``), a payload of any type also loses the usual names of secrets at any
/// depth, but for the paths its handler reads that only look like secrets (``JobHandler/payloadPathsNamedLikeSecrets``:
/// `sms.send`'s `tokens.token`): an `api_key` a client put in an `sms.send` is not printed (decision 0107). The dead-set
/// copy keeps such keys of a declared type: its handler may read them, and a retry runs with that copy. Text kept where
/// a payload was (an envelope that could not be read, the start of one too large to keep whole) cannot be stripped key
/// by key: it is withheld when it quotes such a name (``mayHoldSecrets(rawText:type:)``).
///
/// Why one type: each output path once had its own copy of the rule, and the copies drifted (the dead set
/// stripped the password while `job show` printed it). A path that shows a payload calls ``redacted(_:)``.
public struct PayloadRedaction: Sendable {
    /// Secret top-level payload keys by job type.
    public let secretKeys: [String: Set<String>]
    /// The types a handler declares, or nil when the rule was given its keys alone (every type then counts as known).
    private let knownTypes: Set<String>?
    /// What a payload of a type outside ``knownTypes`` loses, at any depth: every declared key and the usual names.
    private let unknownTypeKeys: SecretNames
    /// By type, the payload paths named like secrets that are shown (``JobHandler/payloadPathsNamedLikeSecrets``).
    public let pathsNamedLikeSecrets: [String: Set<String>]

    /// The parts of the usual names of secrets: a key whose name, lower-cased and without `-` and `_`
    /// (``normalisedName(_:)``), contains one is named like a secret (``isCommonSecretName(_:)``): `api-key`, `X-Api-Key`,
    /// `client_secret`, `private_key`, `db_password`, `credentials`.
    public static let commonSecretKeys: Set<String> = [
        "apikey", "authkey", "authorization", "credential", "passphrase", "passwd", "password", "privatekey", "secret",
    ]

    /// The endings of the usual names of secrets: a key whose normalised name ends with one is named like a secret
    /// (`token`, `access_token`, `auth-token`, `accessToken`). An ending, not a part: `tokens`, `token_count`,
    /// `max_tokens`, `token_type` and Kavenegar's `token2`…`token20` hold no secret, and are what an operator reads.
    public static let commonSecretEndings: Set<String> = ["token"]

    /// Whether `key` is one of the usual names of secrets: its ``normalisedName(_:)`` contains one of
    /// ``commonSecretKeys`` or ends with one of ``commonSecretEndings``. Until session 61 a list of names was matched
    /// exactly (`api_key`, `token`), and `api-key` (Brevo's own header), `x-api-key`, `client_secret` and `auth_token`
    /// were printed (decision 0107, amended).
    public static func isCommonSecretName(_ key: String) -> Bool {
        let name = normalisedName(key)
        return commonSecretKeys.contains { name.contains($0) } || commonSecretEndings.contains { name.hasSuffix($0) }
    }

    /// `key` lower-cased, without `-` and `_`: the one spelling the usual names of secrets are matched in.
    public static func normalisedName(_ key: String) -> String {
        var name = ""
        for scalar in key.lowercased().unicodeScalars where scalar != "-" && scalar != "_" { name.unicodeScalars.append(scalar) }
        return name
    }

    /// The member names a walk removes: the keys handlers declare (lower case, matched in any case) and, with `common`,
    /// the usual names of secrets (``isCommonSecretName(_:)``).
    struct SecretNames: Sendable {
        let declared: Set<String>
        let common: Bool

        func matches(_ key: String) -> Bool {
            declared.contains(key.lowercased()) || (common && PayloadRedaction.isCommonSecretName(key))
        }

        /// Whether `text` may name one (cheap, so that only such strings are parsed).
        func mayBeNamed(in text: String) -> Bool {
            let lowered = text.lowercased()
            if declared.contains(where: { lowered.contains($0) }) { return true }
            guard common else { return false }
            let squeezed = PayloadRedaction.normalisedName(text)
            return PayloadRedaction.commonSecretKeys.contains { squeezed.contains($0) }
                || PayloadRedaction.commonSecretEndings.contains { squeezed.contains($0) }
        }
    }

    /// The rule for the handlers of `registry`.
    public init(registry: JobRegistry) {
        var keys: [String: Set<String>] = [:]
        var shownPaths: [String: Set<String>] = [:]
        for (type, entry) in registry.entries {
            if !entry.redactedPayloadKeys.isEmpty { keys[type] = entry.redactedPayloadKeys }
            if !entry.payloadPathsNamedLikeSecrets.isEmpty { shownPaths[type] = entry.payloadPathsNamedLikeSecrets }
        }
        self.init(secretKeys: keys, knownTypes: Set(registry.entries.keys), pathsNamedLikeSecrets: shownPaths)
    }

    /// A rule with explicit keys (tests, tools without handlers); with `knownTypes`, a payload of any other type loses
    /// every secret key named here and the common ones, at any depth. `pathsNamedLikeSecrets`: by type, the paths
    /// named like secrets that are shown all the same.
    public init(secretKeys: [String: Set<String>], knownTypes: Set<String>? = nil, pathsNamedLikeSecrets: [String: Set<String>] = [:]) {
        self.secretKeys = secretKeys.mapValues { Set($0.map { $0.lowercased() }) }
        self.knownTypes = knownTypes
        self.pathsNamedLikeSecrets = pathsNamedLikeSecrets
        unknownTypeKeys = SecretNames(declared: self.secretKeys.values.reduce([]) { $0.union($1) }, common: true)
    }

    /// True when `type`'s payloads carry secrets, so raw envelope text of that type must not be shown or kept.
    public func carriesSecrets(_ type: String) -> Bool {
        secretKeys[type]?.isEmpty == false
    }

    /// ``carriesSecrets(_:)`` for a job whose handler the caller found in the registry this rule was made from
    /// (``init(registry:)``): the same answer, read from the handler's own keys instead of hashing its type again
    /// (each job's history record, ~540 instructions a job; session 21).
    func carriesSecrets(_ entry: JobRegistry.Entry) -> Bool {
        !entry.redactedPayloadKeys.isEmpty
    }

    /// True when text that could not be read as JSON (an envelope that could not be read, the start of a payload too
    /// large to keep whole) may hold a secret: it names a type whose payloads carry secrets, or quotes one of their
    /// secret keys or one of the usual names of secrets (``isCommonSecretName(_:)``) — but for the last segment of the
    /// paths named like secrets that the handler of its type (`type`, or the first `"type":"…"` in the text) reads,
    /// which its readable payload would show (`sms.send`'s `token`). Such text cannot be stripped key by key (it is not
    /// JSON, or not the JSON the scan expected), and a cut-off envelope may lose its `type` while keeping
    /// `"password":…`, so the text itself is searched: every run between two quotes (an escaped quote too: JSON sent
    /// JSON-encoded twice) without whitespace, matched as a key is. Errs on the side of withholding: a malformed
    /// envelope of another type that happens to quote `"password"` as a value is withheld too.
    ///
    /// A declared type's text was searched for its own secret keys only once, and a garbled `sms.send` holding
    /// `"api_key":…` was kept and printed whole (a review found it); the usual names now count for every type.
    public func mayHoldSecrets(rawText bytes: [UInt8], type: String? = nil) -> Bool {
        // A type whose payloads carry secrets, named anywhere, in any ASCII case (which only errs on the side of
        // withholding).
        let lowered = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        for (type, keys) in secretKeys where !keys.isEmpty {
            if Self.contains(lowered, Array(type.lowercased().utf8)) { return true }
        }
        // A declared type shows the paths its handler reads that only look like secrets, so its text may quote their
        // names; any other type's text (a garbled `partner.sync`'s `"token"`) may not.
        let named = type ?? Self.typeNamed(in: bytes)
        let declaredType = named.map { knownTypes?.contains($0) ?? true } ?? false
        let shown = declaredType ? Set((named.flatMap { pathsNamedLikeSecrets[$0] } ?? []).map(Self.lastSegment)) : []
        return Self.quotedRuns(in: bytes) { name in
            unknownTypeKeys.declared.contains(name.lowercased()) || (!shown.contains(name) && Self.isCommonSecretName(name))
        }
    }

    /// Whether `test` holds for a run of text between two quotes: at most 128 bytes, no whitespace, the backslashes
    /// that escape its closing quote dropped (`\"api_key\"` in JSON held in a string).
    static func quotedRuns(in bytes: [UInt8], where test: (String) -> Bool) -> Bool {
        var start: Int?
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\"") {
            defer { start = index + 1 }
            guard let from = start else { continue }
            var end = index
            while end > from, bytes[end - 1] == UInt8(ascii: "\\") { end -= 1 }
            let run = bytes[from..<end]
            guard !run.isEmpty, run.count <= 128, !run.contains(where: { [0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { continue }
            if test(String(decoding: run, as: UTF8.self)) { return true }
        }
        return false
    }

    /// A path's last member name: `token` of `tokens.token` and of `items[2].token`, `items` of `a.items[0]`.
    static func lastSegment(_ path: String) -> String {
        let last = path.split(separator: ".", omittingEmptySubsequences: false).last.map(String.init) ?? path
        return last.firstIndex(of: "[").map { String(last[..<$0]) } ?? last
    }

    /// `text`, kept where a payload was (``mayHoldSecrets(rawText:type:)``), or a note saying it was withheld.
    public func withholdingSecrets(inText text: String, type: String?) -> String {
        mayHoldSecrets(rawText: Array(text.utf8), type: type) ? Self.withheldTextNote : text
    }

    /// What stands for text withheld as it may hold a secret.
    public static let withheldTextNote = "(text withheld: it names a type or key that carries secrets)"

    /// The value of the envelope's own `"type":"…"` in text that is not JSON (cut off): a `type` key at the top level of
    /// the object, not one inside its payload (which could make an unknown type look declared); nil when there is none
    /// before the text ends, or it holds an escape.
    static func typeNamed(in bytes: [UInt8]) -> String? {
        var depth = 0
        var index = 0
        var expectingKey = false
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                depth += 1
                expectingKey = true
            case UInt8(ascii: "}"):
                depth -= 1
            case UInt8(ascii: ","):
                expectingKey = depth == 1 || expectingKey
            case UInt8(ascii: "\""):
                // A string: skip it, escapes included; at the top level in a key's place, it may be `"type"`.
                let start = index + 1
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
                guard end < bytes.count else { return nil }
                let isTypeKey = depth == 1 && expectingKey && bytes[start..<end].elementsEqual(Array("type".utf8))
                expectingKey = false
                index = end + 1
                if isTypeKey {
                    while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ":")].contains(bytes[index]) { index += 1 }
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
                    let valueStart = index + 1
                    guard let valueEnd = bytes[valueStart...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                    let name = bytes[valueStart..<valueEnd]
                    return name.contains(UInt8(ascii: "\\")) ? nil : String(decoding: name, as: UTF8.self)
                }
                continue
            default:
                break
            }
            index += 1
        }
        return nil
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        let first = needle[0]
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    /// `payload` of a `type` job without its secret keys; phone numbers untouched (the dead-set copy, which a
    /// retry must be able to run with).
    ///
    /// Keys match whatever their case (the sets hold lower-case names): a `sendinblue.register` sent with `"Password"`,
    /// which its handler cannot read, kept the password in the dead set (a review found it).
    public func stripped(_ payload: JSONValue, type: String) -> JSONValue {
        strippedNamingWithheld(payload, type: type).payload
    }

    /// What the rule for a type no handler declares removes from `payload` (``stripped(_:type:)``), as paths
    /// (`password`, `auth.token`, `items[2].api_key`) in the order met; empty for a type a handler declares, whose
    /// handler knows which of its keys are never kept and copes without them (`sendinblue.register`'s password).
    ///
    /// Why it is worth naming: such a job is buried while no worker runs its type (enqueued before its deploy), and
    /// `hoopoe dead retry-all` once the type is deployed ran it without those keys, and said nothing; the dead copy now
    /// names them (``JobEnvelope/withheldKeys``), and a retry refuses it.
    public func withheldKeys(_ payload: JSONValue, type: String) -> [String] {
        strippedNamingWithheld(payload, type: type).withheld
    }

    /// ``stripped(_:type:)`` and ``withheldKeys(_:type:)`` in one walk, so the two can never disagree on what was
    /// removed (they were two walks of one rule once): the dead set's copy takes both.
    public func strippedNamingWithheld(_ payload: JSONValue, type: String) -> (payload: JSONValue, withheld: [String]) {
        if let keys = secretKeys[type] {
            // At any depth, and inside strings that hold JSON: the handler reads its top-level keys only, but a payload
            // of the wrong shape (sent JSON-encoded twice, as a list, one level down) is buried as it came, and its
            // password was kept in the dead set and shown by `dead show`, `job show` and the dashboard.
            var ignored: [String] = []
            return (Self.removing(SecretNames(declared: keys, common: false), from: payload, path: "", naming: &ignored), [])
        }
        guard let knownTypes, !knownTypes.contains(type) else { return (payload, []) }
        var withheld: [String] = []
        let kept = Self.removing(unknownTypeKeys, from: payload, path: "", naming: &withheld)
        return (kept, withheld)
    }

    /// `value` without any member `keys` names (``SecretNames``), at any depth, strings holding a JSON object or array
    /// included (re-encoded without them); each removed member's path (from `path`) appended to `removed`, an object's
    /// members in key order; a member whose path is in `exceptPaths` (exactly, case included: a handler reads
    /// `tokens.token`, not `Tokens.TOKEN`) stays.
    private static func removing(
        _ keys: SecretNames, from value: JSONValue, path: String, except exceptPaths: Set<String> = [], naming removed: inout [String]
    ) -> JSONValue {
        switch value {
        case .object(let members):
            var kept: [String: JSONValue] = [:]
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                let here = path.isEmpty ? key : "\(path).\(key)"
                if keys.matches(key) && !exceptPaths.contains(here) {
                    removed.append(here)
                } else {
                    kept[key] = removing(keys, from: member, path: here, except: exceptPaths, naming: &removed)
                }
            }
            return .object(kept)
        case .array(let elements):
            return .array(elements.enumerated().map { index, element in
                removing(keys, from: element, path: "\(path)[\(index)]", except: exceptPaths, naming: &removed)
            })
        case .string(let text):
            guard Self.mayHoldJSON(text, naming: keys), let inner = JSONValue.parse(Array(text.utf8)), inner.isObject || inner.arrayValue != nil else {
                return value
            }
            let before = removed.count
            let kept = removing(keys, from: inner, path: path, except: exceptPaths, naming: &removed)
            return removed.count == before ? value : .string(String(decoding: kept.encoded(), as: UTF8.self))
        default:
            return value
        }
    }

    /// Whether `text` may be JSON holding one of `keys`: it starts like an object or array and may name a key.
    /// Cheap, so that only such strings are parsed.
    private static func mayHoldJSON(_ text: String, naming keys: SecretNames) -> Bool {
        guard let first = text.utf8.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }),
              first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return false }
        return keys.mayBeNamed(in: text)
    }

    /// `payload` of a `type` job without its secret keys and the usual names of secrets (but for the paths its handler
    /// reads that only look like secrets), phone numbers untouched: what ``shown(_:type:)`` masks, and what the dead set
    /// cuts to text when a payload is too large to keep whole. Cut, its text cannot be stripped key by key, and no retry
    /// runs with it (`dead retry` refuses a cut payload), so nothing its handler reads is lost; kept whole, a 600 KB
    /// `sms.send`'s `api_key` was printed by every output.
    public func withoutSecretNames(_ payload: JSONValue, type: String) -> JSONValue {
        var withheld: [String] = []
        return Self.removing(
            SecretNames(declared: [], common: true), from: stripped(payload, type: type), path: "", except: pathsNamedLikeSecrets[type] ?? [],
            naming: &withheld)
    }

    /// `payload` as it may be shown: secret keys removed, the usual names of secrets too (but for the paths the type's
    /// handler reads that only look like secrets), phone numbers and email addresses masked.
    public func shown(_ payload: JSONValue, type: String) -> JSONValue {
        Self.maskingPersonalData(withoutSecretNames(payload, type: type))
    }

    /// The envelope as it may be shown: its payload per ``shown(_:type:)``, its free-text fields (errors, reasons,
    /// unique key) and the fields this release does not know with phone numbers and email addresses masked, those
    /// fields without the usual names of secrets. Text the dead set kept where a payload was — an envelope that could
    /// not be read (`(malformed)`), the start of a payload too large to keep whole — is withheld when it may hold a
    /// secret (``mayHoldSecrets(rawText:type:)``): earlier releases kept a cut `sms.send`'s `api_key`, and a garbled one's.
    public func redacted(_ envelope: JobEnvelope) -> JobEnvelope {
        var copy = envelope
        copy.payload = shown(envelope.payload, type: envelope.type)
        if case .string(let text) = envelope.payload {
            let raw = envelope.type == "(malformed)"
            if raw || envelope.deadReason?.contains(Worker.payloadCutNote) == true,
                mayHoldSecrets(rawText: Array(text.utf8), type: raw ? nil : envelope.type)
            {
                copy.payload = .string(Self.withheldTextNote)
            }
        }
        // A type is any text a client wrote (an unknown one is kept as sent), as the job.dead event masks it.
        copy.type = PersonalDataMask.mask(envelope.type)
        copy.lastError = envelope.lastError.map(PersonalDataMask.mask)
        copy.deadReason = envelope.deadReason.map(PersonalDataMask.mask)
        copy.uniqueKey = envelope.uniqueKey.map(PersonalDataMask.mask)
        copy.failedAttempts = envelope.failedAttempts?.map(\.masked)
        // Fields this release does not know: a client's own, beside the payload. Named like a secret (an `api_key` put
        // next to `payload`), they are left out as a payload's are (decision 0107).
        copy.otherFields = envelope.otherFields.map { others in
            var withheld: [String] = []
            let kept = Self.removing(SecretNames(declared: [], common: true), from: .object(others), path: "", naming: &withheld)
            if case .object(let masked) = Self.maskingPersonalData(kept) { return masked }
            return others
        }
        return copy
    }

    /// A copy of `value` with phone numbers and email addresses masked in its strings, integers and object keys (a
    /// payload may key a map by number, or by address); an integer that looks like a phone number becomes a masked
    /// string, so the JSON stays valid. A number or a string holding a digit in a field named as a phone
    /// (``PhoneFieldNames``: `phone`, `receptor`, `mobile`, …) is masked whole (``maskingAsPhone(_:)``), so a short or
    /// odd number the scanner does not take for one (`"phone":"0912123"`) is not shown whole beside the error that
    /// masks it; so is such a field inside a string holding JSON (a payload sent JSON-encoded twice).
    public static func maskingPersonalData(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var masked: [String: JSONValue] = [:]
            for (key, member) in members {
                masked[PersonalDataMask.mask(key)] = PhoneFieldNames.matches(key) ? maskingAsPhone(member) : maskingPersonalData(member)
            }
            return .object(masked)
        case .array(let elements): return .array(elements.map(maskingPersonalData))
        case .string(let text):
            if mayHoldPhoneField(text), let inner = JSONValue.parse(Array(text.utf8)), inner.isObject || inner.arrayValue != nil {
                let masked = maskingPersonalData(inner)
                if masked != inner { return .string(String(decoding: masked.encoded(), as: UTF8.self)) }
            }
            return .string(PersonalDataMask.mask(text))
        case .integer(let number):
            let masked = PersonalDataMask.mask(String(number))
            return masked == String(number) ? value : .string(masked)
        default: return value
        }
    }

    /// The value of a phone field: a number, or a string holding a digit (ASCII, Persian or Arabic-Indic), masked whole
    /// by the one rule (``PhoneNumberMask/maskNumber(_:)``: `09121234567` → `0912****567`, `0912123` → `*****23`), a
    /// number as a masked string; an email address put there is masked as one (``EmailAddressMask``), which shows less
    /// of it than the phone rule would. A list's elements are masked so. Anything else is masked as any value is
    /// (``maskingPersonalData(_:)``): an object's members (a `phone` inside it still by its name), a string without a
    /// digit (`"mobile":"android"`), booleans and nulls. Until session 63 every value under such a name was masked
    /// whole, and an object's `user_id`, `name` and `delivered_at` were shown as stars (and not found by the
    /// dashboard's search, which matches what is shown).
    static func maskingAsPhone(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text) where text.contains(where: PhoneNumberMask.isDigit):
            let asEmail = EmailAddressMask.mask(text)
            return .string(asEmail != text ? asEmail : PhoneNumberMask.maskNumber(text))
        case .integer(let number): return .string(PhoneNumberMask.maskNumber(String(number)))
        case .double(let number): return .string(PhoneNumberMask.maskNumber(String(number)))
        case .array(let elements): return .array(elements.map(maskingAsPhone))
        case .string, .object, .bool, .null: return maskingPersonalData(value)
        }
    }

    /// Whether `text` may be JSON naming a phone field: it starts like an object or array and quotes such a name.
    /// Cheap, so that only such strings are parsed.
    private static func mayHoldPhoneField(_ text: String) -> Bool {
        guard let first = text.utf8.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }),
              first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return false }
        return PhoneFieldNames.mayBeNamed(in: text)
    }
}
