/// Masks phone numbers before they reach a provider's log line or error message, by HoopoeCore's rule
/// (`PhoneNumberMask.maskNumber`): the last 3 characters and at most the first 5 shown, one leading character fewer
/// per character under 12, every other one a `*` (`09121234567` → `0912****567`, `+989121234567` → `+9891*****567`).
///
/// A copy, because this module does not depend on HoopoeCore (it would pull in Redis); the engine's jobs use
/// `PhoneNumberMask` itself. `Tests/HoopoeJobsTests/SMS/PhoneMaskRuleTests.swift` runs both over every length and
/// lead, so the two cannot drift again: they once printed `0912****567` in a worker's provider log line and
/// `09121***567` in `job show` for the same number.
public enum PhoneMask {
    /// Masks one phone number: its last 3 characters and `min(5, count - 7)` first ones shown; 7 characters or fewer
    /// show only their last `min(2, count - 2)` (`12345` → `***45`).
    public static func mask(_ number: String) -> String {
        let characters = Array(number)
        let head = characters.count >= 8 ? min(5, characters.count - 7) : 0
        let tail = characters.count >= 8 ? 3 : max(0, min(2, characters.count - 2))
        return String(characters.prefix(head)) + String(repeating: "*", count: characters.count - head - tail)
            + String(characters.suffix(tail))
    }

    /// Masks each number of a list and joins them with commas, for one log line.
    public static func mask(_ numbers: [String]) -> String {
        numbers.map(mask).joined(separator: ",")
    }
}
