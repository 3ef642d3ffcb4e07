/// Masks anything in a text that looks like a phone number: the one rule of every output (logs, the admin commands'
/// output, dead-set listings and reasons, events' free text, provider log lines).
///
/// **What a masked number shows**: its last 3 characters and at most its first 5, the rest one `*` each; a number
/// of fewer than 12 characters shows one fewer leading character per character it is short (11: 4, 10: 3), so an
/// Iranian mobile keeps only its operator prefix and last 3 digits: `09121234567` → `0912****567`,
/// `+989121234567` → `+9891*****567`, `9121234567` → `912****567`. (Two maskers once disagreed: logs showed
/// `0912****567` and `+98912****567`, `job show` `09121***567` and `+9891*****567`; this is the stricter of the two for
/// every length.) ``maskNumber(_:)`` masks a value known to be a phone number, however short.
///
/// Phone numbers are the personal data Hoopoe's payloads carry most; every line that leaves the engine passes
/// through this one scanner, so a pasted terminal or a shipped log never carries a full number. It matches 10 to 15
/// digits that start with `+`, `0` or `9` (`+98912…`,
/// `0912…`, `98912…`, `912…`), in ASCII, Persian or Arabic-Indic digits, written in one run or in groups of two or
/// more digits joined by a space, a `-`, a `.`, a `_` or parentheses, as people write them (`0912 123 4567`,
/// `+98-912-123-4567`, `(0912) 123 4567`, `0912.123.4567`). Unix timestamps (`17…`), Redis entry ids (`17…-0`), dates
/// and IP addresses (four dotted numbers up to 255: `91.198.174.192`) do not match, so
/// the numbers an operator needs stay readable. Grouped digits count only with no letter, `-` or `_` against either
/// end: the all-digit groups of a UUID (`…-0912-3456-7890-…`) are not a phone number. Digits right after a decimal
/// point (a digit, then `.`) do not start one: they are a fraction (`elapsed=119.992684999 seconds`, `0.9123456789`),
/// which the mask once cut into `119.99268******999`; a dotted phone number still starts at its first group
/// (`0912.123.4567`). A text that is nothing but one number, however spaced (`0912 - 123 - 4567`, a payload's `phone`
/// as sent), is masked whole.
public enum PhoneNumberMask {
    /// `text` with every phone-like run masked (`+989121234567` → `+9891*****567`).
    public static func mask(_ text: String) -> String {
        guard text.contains(where: \.isNumber) else { return text }
        let characters = Array(text)
        if isWholePhone(characters) { return masked(characters[...]) }
        var result = ""
        var index = 0
        while index < characters.count {
            guard let run = DigitRun(characters, at: index) else {
                result.append(characters[index])
                index += 1
                continue
            }
            result += run.masked(characters)
            index = run.end
        }
        return result
    }

    /// A value known to be a phone number (a receptor, a payload's `phone` quoted in a refusal) masked whole, whatever
    /// it looks like: as ``mask(_:)`` masks a number, and one too short or odd for the scanner (`12345` → `***45`)
    /// still shows at most its last 2 characters (none under 4).
    public static func maskNumber(_ number: String) -> String {
        masked(Array(number)[...])
    }

    /// Masks each number of a list and joins them with commas, for one log line.
    public static func maskNumbers(_ numbers: [String]) -> String {
        numbers.map(maskNumber).joined(separator: ",")
    }

    /// The rule: `run` with its last 3 characters and `min(5, count - 7)` first ones shown, every other one a `*`;
    /// 7 characters or fewer show only their last `min(2, count - 2)`.
    static func masked(_ run: ArraySlice<Character>) -> String {
        let head = run.count >= 8 ? min(5, run.count - 7) : 0
        let tail = run.count >= 8 ? 3 : max(0, min(2, run.count - 2))
        return String(run.prefix(head)) + String(repeating: "*", count: run.count - head - tail) + String(run.suffix(tail))
    }

    /// Persian (U+06F0…) and Arabic-Indic (U+0660…) digits as well as ASCII ones.
    static func isDigit(_ character: Character) -> Bool {
        guard let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1 else { return false }
        return ("0"..."9").contains(scalar) || (0x06F0...0x06F9).contains(scalar.value) || (0x0660...0x0669).contains(scalar.value)
    }

    static func isLead(_ character: Character) -> Bool { "+09۰۹٠٩".contains(character) }

    /// Whether the whole text is one phone number however it is spaced: only digits and the separators (space, `-`,
    /// `.`, `_`, parentheses, a leading `+`), 10 to 15 digits, the first a lead, not an IPv4 address nor a decimal
    /// number. The jobs accept a phone with any
    /// spaces and dashes (`0912 - 123 - 4567`, `0 9 1 2 …`), which the group rule above does not join, and a payload's
    /// `phone` is shown as sent.
    static func isWholePhone(_ characters: [Character]) -> Bool {
        var digits = 0
        var firstDigit: Character?
        for (index, character) in characters.enumerated() {
            if isDigit(character) {
                digits += 1
                if firstDigit == nil { firstDigit = character }
            } else if !(" -._()".contains(character) || (character == "+" && index == 0)) {
                return false
            }
        }
        // A decimal number (`0.1234567890`, one dot between digits) is no phone number either.
        let isDecimal = characters.filter { !isDigit($0) } == ["."] && characters.first.map(isDigit) == true && characters.last.map(isDigit) == true
        return (10...15).contains(digits) && (characters.first == "+" || firstDigit.map(isLead) == true)
            && !DigitRun.isIPv4(characters[...]) && !isDecimal
    }
}

/// A stretch of digit groups, and which of its groups make a phone number.
private struct DigitRun {
    /// Where each group of digits starts and ends (its `+` or `(` included in the first).
    var groups: [Range<Int>] = []
    /// Where the stretch ends.
    let end: Int

    /// The stretch starting at `start`: digits (after a `+` or `(`), then, while a group of two or more digits
    /// follows one of two or more, up to two separators and that group. Nil when no digit starts there.
    init?(_ characters: [Character], at start: Int) {
        var index = start
        let opener = characters[index] == "+" || characters[index] == "("
        if opener { index += 1 }
        guard index < characters.count, PhoneNumberMask.isDigit(characters[index]) else { return nil }
        var groupStart = start
        while true {
            while index < characters.count, PhoneNumberMask.isDigit(characters[index]) { index += 1 }
            groups.append(groupStart..<index)
            var next = index
            while next < characters.count, next - index < 2, " -()._".contains(characters[next]) { next += 1 }
            let digits = characters[next...].prefix { PhoneNumberMask.isDigit($0) }.count
            guard next > index, digits >= 2, Self.digitCount(characters, groups.last!) >= 2 else { break }
            groupStart = next
            index = next
        }
        end = index
    }

    static func digitCount(_ characters: [Character], _ range: Range<Int>) -> Int {
        characters[range].filter(PhoneNumberMask.isDigit).count
    }

    /// The stretch with its phone numbers masked: the longest run of groups from the earliest group that starts with
    /// a lead and holds 10 to 15 digits; a run of several groups only with no letter, `-` or `_` against its ends.
    func masked(_ characters: [Character]) -> String {
        var result = ""
        var shownUpTo = groups[0].lowerBound
        var first = 0
        while first < groups.count {
            let leadIndex = characters[groups[first].lowerBound] == "(" && groups[first].count > 1 ? groups[first].lowerBound + 1 : groups[first].lowerBound
            var found: Int?
            if PhoneNumberMask.isLead(characters[leadIndex]) && !Self.followsDecimalPoint(characters, groups[first].lowerBound) {
                var digits = 0
                for last in first..<groups.count {
                    digits += Self.digitCount(characters, groups[last])
                    if digits > 15 { break }
                    if digits >= 10 && (last == first || isolated(characters, groups[first].lowerBound, groups[last].upperBound))
                        && !Self.isIPv4(characters[groups[first].lowerBound..<groups[last].upperBound])
                    {
                        found = last
                    }
                }
            }
            guard let last = found else {
                first += 1
                continue
            }
            let range = groups[first].lowerBound..<groups[last].upperBound
            result += String(characters[shownUpTo..<range.lowerBound])
            result += PhoneNumberMask.masked(characters[range])
            shownUpTo = range.upperBound
            first = last + 1
        }
        return result + String(characters[shownUpTo..<end])
    }

    /// Whether `start` comes right after a decimal point, a digit and then `.`: the digits there are a fraction.
    static func followsDecimalPoint(_ characters: [Character], _ start: Int) -> Bool {
        start >= 2 && characters[start - 1] == "." && PhoneNumberMask.isDigit(characters[start - 2])
    }

    /// Whether `text` is four ASCII numbers from 0 to 255 joined by single dots: an IPv4 address, not a phone number
    /// (`912.123.45.67`, a number written 3-3-2-2 without its 0, is not one: 912 is over 255).
    static func isIPv4(_ text: ArraySlice<Character>) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy { $0.isASCII && $0.isNumber } && (Int(String(part)) ?? 256) <= 255
        }
    }

    /// Whether `start..<end` has no letter, digit, `-` or `_` against either end.
    private func isolated(_ characters: [Character], _ start: Int, _ end: Int) -> Bool {
        func joins(_ character: Character) -> Bool { character.isLetter || character.isNumber || character == "-" || character == "_" }
        return (start == 0 || !joins(characters[start - 1])) && (end == characters.count || !joins(characters[end]))
    }
}
