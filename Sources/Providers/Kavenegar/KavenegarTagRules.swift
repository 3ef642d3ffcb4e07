/// Checks a `tag` before sending (else `607`, docs/providers.md §2.4.1).
enum KavenegarTagRules {
    /// English letters, digits, `-`, `_` and `ـ` (U+0640). The docs show U+0640 where `_` was probably meant
    /// [unverified, docs/providers.md §6.2]: both are accepted here until a sandbox check settles it.
    static func violation(in tag: String) -> KavenegarTokenRules.Violation? {
        guard !tag.isEmpty, tag.count <= 200 else {
            return .init(code: 607, reason: "tag must be 1–200 characters")
        }
        let allowed = tag.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "-" || scalar == "_" || scalar == "\u{0640}"
        }
        return allowed ? nil : .init(code: 607, reason: "tag may contain only English letters, digits, - and _")
    }
}
