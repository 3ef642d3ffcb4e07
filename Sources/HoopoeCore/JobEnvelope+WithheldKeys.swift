import HoopoeJSON

extension JobEnvelope {
    /// The wire name of ``withheldKeys``.
    public static let withheldKeysField = "withheld_keys"

    /// The payload keys the dead set's copy lacks because they were withheld as secrets when the job was buried under a
    /// type no handler declared (``PayloadRedaction/withheldKeys(_:type:)``), as paths (`password`, `auth.token`); nil
    /// when none were.
    ///
    /// A job like that cannot run as it was sent, so a retry refuses it (`hoopoe dead retry`, `retry-all`, the
    /// dashboard): before, `retry-all` after the type's deploy ran it without those keys, and said nothing. Kept among
    /// ``otherFields`` as ``enqueuedBy`` is: only the dead copy carries it, and nothing on a job's path reads it.
    public var withheldKeys: [String]? {
        get {
            guard case .array(let names)? = otherFields?[Self.withheldKeysField] else { return nil }
            let keys = names.compactMap(\.stringValue)
            return keys.isEmpty ? nil : keys
        }
        set {
            var others = otherFields ?? [:]
            others[Self.withheldKeysField] = newValue.flatMap { $0.isEmpty ? nil : JSONValue.array($0.map(JSONValue.string)) }
            otherFields = others.isEmpty ? nil : others
        }
    }
}
