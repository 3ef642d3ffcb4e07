/// Masks phone numbers before they reach a log line.
///
/// Receptors are personal data; logs keep enough of a number to correlate a report with a send (the country/
/// operator prefix and the last three digits) and hide the rest, e.g. `+989121234567` → `+98912****567`.
public enum PhoneMask {
    /// Masks one phone number: keeps the last 3 characters, hides at least 4 before them behind `****`, and keeps at
    /// most 6 leading characters (`09121234567` → `0912****567`). Numbers of 7 characters or fewer keep only their
    /// last 2 characters.
    public static func mask(_ number: String) -> String {
        let characters = Array(number)
        guard characters.count > 7 else {
            return "****" + String(characters.suffix(min(2, max(0, characters.count - 2))))
        }
        let head = min(6, characters.count - 7)
        return String(characters.prefix(head)) + "****" + String(characters.suffix(3))
    }

    /// Masks each number of a list and joins them with commas, for one log line.
    public static func mask(_ numbers: [String]) -> String {
        numbers.map(mask).joined(separator: ",")
    }
}
