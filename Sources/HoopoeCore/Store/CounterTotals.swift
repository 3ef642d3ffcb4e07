import Redis

/// The counters' totals, made when read (decision 0033): the settle scripts count each day per type
/// (`processed:<type>`) and each hour per minute (`m07:processed`), and a total — the day's `processed`, the hour's —
/// is the sum of those fields. Writing the totals too cost two more `HINCRBY`s a settle; reading sums a hash the
/// reader fetches whole anyway.
///
/// A hash written before that decision also holds the totals themselves, under the plain names: they are ignored
/// (they count the same jobs as the fields summed), so one rule reads hashes of either age, and of a rolling
/// upgrade where older workers still write them.
enum CounterTotals {
    /// `HGETALL`'s reply as a dictionary of the finer fields, each counter's total added under its plain name (the
    /// part before the first `:` of a day's `processed:<type>`, after it for an hour's `m07:processed`).
    static func summed(_ reply: RedisReply) -> [String: Int] {
        var fields: [String: Int] = [:]
        let items = reply.array ?? []
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let key = items[index].string, let value = items[index + 1].int { fields[key] = value }
        }
        var result: [String: Int] = [:]
        for (key, value) in fields {
            guard let colon = key.firstIndex(of: ":") else { continue }  // a stored total: summed below instead
            result[key] = value
            let first = key[..<colon]
            let name = isMinute(first) ? key[key.index(after: colon)...] : first
            result[String(name)] = (result[String(name)] ?? 0).addingSaturated(value)  // a hand-edited field may be any Int
        }
        return result
    }

    /// `m07`: a minute's field prefix in an hour's hash.
    private static func isMinute(_ part: Substring) -> Bool {
        part.utf8.count == 3 && part.first == "m" && part.dropFirst().allSatisfy(\.isASCII) && part.dropFirst().allSatisfy(\.isNumber)
    }
}
