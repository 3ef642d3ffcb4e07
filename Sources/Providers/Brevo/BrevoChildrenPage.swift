/// One page of `GET /reseller/children`.
public struct BrevoChildrenPage: Sendable, Hashable {
    /// The children on this page (at most 20).
    public var children: [BrevoChild]
    /// `count`: total number of children.
    public var count: Int64

    /// Creates a page.
    public init(children: [BrevoChild], count: Int64) {
        self.children = children
        self.count = count
    }
}
