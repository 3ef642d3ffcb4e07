/// Persian (`۰`–`۹`) and Arabic-Indic (`٠`–`٩`) digits read as `0`–`9`: what an Iranian user's keyboard types into a
/// date or a phone number, and what the payloads that carry them (from forms, unchanged) hold.
enum LatinDigits {
    /// `۱` and `١` → `1`; any other character as it is.
    static func latin(_ c: Character) -> Character {
        guard let scalar = c.unicodeScalars.first, c.unicodeScalars.count == 1 else { return c }
        switch scalar.value {
        case 0x06F0...0x06F9: return Character(String(scalar.value - 0x06F0))
        case 0x0660...0x0669: return Character(String(scalar.value - 0x0660))
        default: return c
        }
    }

    /// `text` with its Persian and Arabic-Indic digits read as Latin ones: `۱۳۹۸` and `١٣٩٨` → `1398`.
    static func latin(_ text: some StringProtocol) -> String { String(text.map(latin)) }
}
