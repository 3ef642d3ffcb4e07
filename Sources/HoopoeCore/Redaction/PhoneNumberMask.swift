/// Masks anything in a text that looks like a phone number, keeping the first 5 and last 3 characters.
///
/// Phone numbers are the personal data Hoopoe's payloads carry most; every line that leaves the engine (logs, the
/// admin commands' output, dead-set listings) passes through this one scanner, so a pasted terminal or a shipped
/// log never carries a full number. It matches runs of 10 to 15 digits that start with `+`, `0` or `9` (`+98912…`,
/// `0912…`, `98912…`, `912…`), in ASCII or Persian digits. Unix timestamps (`17…`) and Redis entry ids (`17…-0`)
/// do not match, so the numbers an operator needs stay readable.
public enum PhoneNumberMask {
    /// `text` with every phone-like run masked (`+98912*****567`).
    public static func mask(_ text: String) -> String {
        guard text.contains(where: \.isNumber) else { return text }
        var result = ""
        var run = ""
        func flush() {
            let digits = run.filter(\.isNumber).count
            let lead = run.first.map { "+09۰۹".contains($0) } ?? false
            if (10...15).contains(digits) && lead {
                result += run.prefix(5) + String(repeating: "*", count: max(0, run.count - 8)) + run.suffix(3)
            } else {
                result += run
            }
            run = ""
        }
        for ch in text {
            if ch.isASCII && (ch.isNumber || (ch == "+" && run.isEmpty)) {
                run.append(ch)
            } else if ("۰"..."۹").contains(ch) {
                run.append(ch)
            } else {
                flush()
                result.append(ch)
            }
        }
        flush()
        return result
    }
}
