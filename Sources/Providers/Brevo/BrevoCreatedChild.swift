/// What create-child produced: the new child's `authKey` and `id`, or — after a `duplicate_parameter` that was
/// reconciled by email — the existing child's id (`adopted`).
public struct BrevoCreatedChild: Sendable, Hashable {
    /// `authKey` (persist immediately); nil for an adopted child, which is addressed by ``id``.
    public var authKey: String?
    /// `id`.
    public var id: Int64?
    /// True when the child already existed and was found by email instead of created.
    public var adopted: Bool

    /// Creates a result.
    public init(authKey: String?, id: Int64?, adopted: Bool) {
        self.authKey = authKey
        self.id = id
        self.adopted = adopted
    }

    /// The identifier to use for follow-up calls (id preferred).
    public var identifier: BrevoChildIdentifier? {
        if let id { return .id(id) }
        return authKey.map(BrevoChildIdentifier.authKey)
    }
}
