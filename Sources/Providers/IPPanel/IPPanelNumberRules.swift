/// IPPanel wants E.164 with `+` (docs/providers.md §3.3, §3.7); checked before sending.
enum IPPanelNumberRules {
    /// A reason the list is unusable, or nil.
    static func violation(in numbers: [String]) -> String? {
        if numbers.isEmpty { return "no recipients" }
        for number in numbers {
            let digits = number.dropFirst()
            guard number.hasPrefix("+"), digits.count >= 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return "recipient \(PhoneMask.mask(number)) is not E.164 with +"
            }
        }
        return nil
    }
}
