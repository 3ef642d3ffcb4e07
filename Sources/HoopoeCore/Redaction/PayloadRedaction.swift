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
///    (``PersonalDataMask``).
///
/// A type no handler declares (a misspelt type, one only another deployment runs) has no keys of its own to name, so
/// its payload loses, at any depth, every key any handler declares secret and the usual names of secrets
/// (``commonSecretKeys``): a `Sendinblue.register` sent by mistake is buried as an unknown type without its password.
///
/// Shown (``shown(_:type:)``, ``redacted(_:)``), a payload of any type also loses the usual names of secrets at any
/// depth, but for the paths its handler reads that only look like secrets (``JobHandler/payloadPathsNamedLikeSecrets``:
/// `sms.send`'s `tokens.token`): an `api_key` a client put in an `sms.send` is not printed (decision 0107). The dead-set
/// copy keeps such keys of a declared type: its handler may read them, and a retry runs with that copy.
///
/// Why one type: each output path once had its own copy of the rule, and the copies drifted (the dead set
/// stripped the password while `job show` printed it). A path that shows a payload calls ``redacted(_:)``.
public struct PayloadRedaction: Sendable {
    /// Secret top-level payload keys by job type.
    public let secretKeys: [String: Set<String>]
    /// The types a handler declares, or nil when the rule was given its keys alone (every type then counts as known).
    private let knownTypes: Set<String>?
    /// What a payload of a type outside ``knownTypes`` loses, at any depth.
    private let unknownTypeKeys: Set<String>
    /// By type, the payload paths named like secrets that are shown (``JobHandler/payloadPathsNamedLikeSecrets``).
    public let pathsNamedLikeSecrets: [String: Set<String>]

    /// The names under which payloads usually carry secrets: removed from a payload whose type no handler declares.
    public static let commonSecretKeys: Set<String> = [
        "password", "passwd", "secret", "token", "access_token", "refresh_token", "api_key", "apikey", "auth_key",
        "authorization",
    ]

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
        unknownTypeKeys = self.secretKeys.values.reduce(Self.commonSecretKeys) { $0.union($1) }
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

    /// True when raw envelope text that could not be read as an envelope may hold a secret: it names a type whose
    /// payloads carry secrets, or one of their secret keys in quotes, or — unless its type (`type`, or the first
    /// `"type":"…"` in the text) is one a handler declares — one of the usual names of secrets in quotes
    /// (``commonSecretKeys``), as the readable payload of such a type would lose them. Such text cannot be stripped key by key (it is not JSON, or
    /// not the JSON the scan expected), and a cut-off envelope may lose its `type` while keeping `"password":…`, so
    /// the text itself is searched. Errs on the side of withholding: a malformed envelope of another type that
    /// happens to contain `"password"` is withheld too.
    public func mayHoldSecrets(rawText bytes: [UInt8], type: String? = nil) -> Bool {
        var needles: Set<String> = []
        // A key in quotes, and escaped in quotes (`\"password\"`: a payload sent JSON-encoded twice).
        func insertQuoted(_ key: String) {
            needles.insert("\"\(key)\"")
            needles.insert("\"\(key)\\\"")
        }
        for (type, keys) in secretKeys where !keys.isEmpty {
            needles.insert(type)
            keys.forEach(insertQuoted)
        }
        // A known type keeps its other keys (sms.send's template `token` is no secret); any other loses the usual
        // names, and so must its raw text (a garbled `partner.sync` kept `"api_key"` where a readable one lost it).
        if let knownTypes, !((type ?? Self.typeNamed(in: bytes)).map(knownTypes.contains) ?? false) {
            unknownTypeKeys.forEach(insertQuoted)
        }
        // Searched in ASCII lower case, as the keys are matched in any case (`"Password"`); a type's name too, which
        // only errs on the side of withholding.
        let lowered = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        return needles.contains { needle in Self.contains(lowered, Array(needle.lowercased().utf8)) }
    }

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
            return (Self.removing(keys, from: payload, path: "", naming: &ignored), [])
        }
        guard let knownTypes, !knownTypes.contains(type) else { return (payload, []) }
        var withheld: [String] = []
        let kept = Self.removing(unknownTypeKeys, from: payload, path: "", naming: &withheld)
        return (kept, withheld)
    }

    /// `value` without any member named in `keys` (lower case), whatever the member's case, at any depth, strings
    /// holding a JSON object or array included (re-encoded without them); each removed member's path (from `path`)
    /// appended to `removed`, an object's members in key order; a member whose path is in `exceptPaths` (exactly, case
    /// included: a handler reads `tokens.token`, not `Tokens.TOKEN`) stays.
    private static func removing(
        _ keys: Set<String>, from value: JSONValue, path: String, except exceptPaths: Set<String> = [], naming removed: inout [String]
    ) -> JSONValue {
        switch value {
        case .object(let members):
            var kept: [String: JSONValue] = [:]
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                let here = path.isEmpty ? key : "\(path).\(key)"
                if keys.contains(key.lowercased()) && !exceptPaths.contains(here) {
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

    /// Whether `text` may be JSON holding one of `keys`: it starts like an object or array and names a key (in any
    /// case). Cheap, so that only such strings are parsed.
    private static func mayHoldJSON(_ text: String, naming keys: Set<String>) -> Bool {
        guard let first = text.utf8.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }),
              first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return false }
        let lowered = text.lowercased()
        return keys.contains { lowered.contains($0) }
    }

    /// `payload` as it may be shown: secret keys removed, the usual names of secrets too (but for the paths the type's
    /// handler reads that only look like secrets), phone numbers and email addresses masked.
    public func shown(_ payload: JSONValue, type: String) -> JSONValue {
        var withheld: [String] = []
        let kept = Self.removing(
            Self.commonSecretKeys, from: stripped(payload, type: type), path: "", except: pathsNamedLikeSecrets[type] ?? [], naming: &withheld)
        return Self.maskingPersonalData(kept)
    }

    /// The envelope as it may be shown: its payload per ``shown(_:type:)``, its free-text fields (errors, reasons,
    /// unique key) and the fields this release does not know with phone numbers and email addresses masked, those
    /// fields without the usual names of secrets.
    public func redacted(_ envelope: JobEnvelope) -> JobEnvelope {
        var copy = envelope
        copy.payload = shown(envelope.payload, type: envelope.type)
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
            let kept = Self.removing(Self.commonSecretKeys, from: .object(others), path: "", naming: &withheld)
            if case .object(let masked) = Self.maskingPersonalData(kept) { return masked }
            return others
        }
        return copy
    }

    /// A copy of `value` with phone numbers and email addresses masked in its strings, integers and object keys (a
    /// payload may key a map by number, or by address); an integer that looks like a phone number becomes a masked
    /// string, so the JSON stays valid.
    public static func maskingPersonalData(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var masked: [String: JSONValue] = [:]
            for (key, member) in members { masked[PersonalDataMask.mask(key)] = maskingPersonalData(member) }
            return .object(masked)
        case .array(let elements): return .array(elements.map(maskingPersonalData))
        case .string(let text): return .string(PersonalDataMask.mask(text))
        case .integer(let number):
            let masked = PersonalDataMask.mask(String(number))
            return masked == String(number) ? value : .string(masked)
        default: return value
        }
    }
}
