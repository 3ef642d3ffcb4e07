extension Int {
    /// `self + other`, or `Int.max` / `Int.min` where that would overflow.
    ///
    /// For sums and differences of numbers read from Redis, which a hand-edit (`HSET … processed:x
    /// 9223372036854775807`) can make any `Int`: `+` and `-` trapped on them, and the process (a dashboard page, a health
    /// check) went down with the sum. A count that large is wrong anyway; shown at the end of the range, it stays visible.
    public func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, or `Int.max` / `Int.min` where that would overflow (``addingSaturated(_:)``).
    public func subtractingSaturated(_ other: Int) -> Int {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}
