/// Levenshtein distance, for "did you mean" on a mistyped job type.
public enum EditDistance {
    /// The name among `names` closest to `name`, when it is close enough to be a slip (at most 3 edits, or a third
    /// of the name): the "did you mean" of `hoopoe enqueue`, `hoopoe scheduler`, `hoopoe queue clear` and the
    /// dashboard's Clear form.
    public static func suggestion(for name: String, among names: [String]) -> String? {
        guard let closest = names.min(by: { between($0, name) < between($1, name) }) else { return nil }
        return between(closest, name) <= max(3, name.count / 3) ? closest : nil
    }

    /// The number of single-character insertions, deletions and substitutions that turn `a` into `b`.
    public static func between(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = b.isEmpty ? [i] : current
        }
        return previous[b.count]
    }
}
