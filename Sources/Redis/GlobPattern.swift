/// Text for a glob-style pattern (`SCAN … MATCH`, `KEYS`, `PSUBSCRIBE`) that matches itself only.
///
/// A namespace is free text apart from braces and spaces (`hoopoe --namespace`): `app[1]` or `team*` as a pattern's
/// prefix matched other applications' keys (`app1:…`, `teamX:…`) or none of its own, so a queue-listing command
/// showed a stranger's queues or missed its own.
public enum GlobPattern {
    /// `text` with each of Redis's glob metacharacters (`*`, `?`, `[`, `]`, `\`) escaped by a backslash.
    public static func literal(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            if character == "*" || character == "?" || character == "[" || character == "]" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
