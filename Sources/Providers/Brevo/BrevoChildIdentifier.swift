/// How a child account is named in a path: its numeric id or its auth key (both accepted since 2020-07-01).
///
/// Prefer the id: an auth key in a path is a secret in a URL, which this client redacts from logs and errors.
public enum BrevoChildIdentifier: Sendable, Hashable {
    /// The numeric id returned by create-child.
    case id(Int64)
    /// The child's auth key.
    case authKey(String)

    var pathComponent: String {
        switch self {
        case .id(let id): String(id)
        case .authKey(let key): FormEncoding.percentEncode(key)
        }
    }

    var secrets: [String] {
        if case .authKey(let key) = self { return [key] }
        return []
    }
}
