import Providers
import Testing

/// An unreadable answer's start, in an error message: cut never through a number, which the masks (10 to 15 digits)
/// would then let through as it stood.
@Suite struct BodyExcerptTests {
    @Test func aShortBodyIsKeptWhole() {
        #expect(BodyExcerpt.of(Array("<html>502 Bad Gateway</html>".utf8)) == "<html>502 Bad Gateway</html>")
    }

    @Test func aCutThroughAPhoneNumberDropsTheNumber() {
        let head = String(repeating: "x", count: BodyExcerpt.limit - 14) + "receptor: "
        let body = Array((head + "09121234567 and more").utf8)
        #expect(BodyExcerpt.of(body) == String(repeating: "x", count: BodyExcerpt.limit - 14) + "receptor:…")
    }

    @Test func aCutThroughPersianDigitsDropsThemAndTheBrokenCharacter() {
        let head = String(repeating: "x", count: BodyExcerpt.limit - 5)
        let body = Array((head + " ۰۹۱۲۱۲۳۴۵۶۷").utf8)  // the cut falls inside a two-byte digit
        #expect(BodyExcerpt.of(body) == head + "…")
    }

    @Test func aCutBetweenWordsKeepsTheNumberBefore() {
        let head = String(repeating: "x", count: BodyExcerpt.limit - 8) + " code 42"
        #expect(BodyExcerpt.of(Array((head + "xyz").utf8)) == head + "…")
    }
}
