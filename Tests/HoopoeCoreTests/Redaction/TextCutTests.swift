import Testing

@testable import HoopoeCore

/// An error or reason cut for storing: never through a number, which the masks (10 to 15 digits) would then show.
@Suite struct TextCutTests {
    @Test func shortTextIsKept() {
        #expect(TextCut.prefix("sent to 09121234567", scalars: 100) == ("sent to 09121234567", false))
    }

    @Test func aCutThroughANumberDropsIt() {
        let cut = TextCut.prefix("sent to 09121234567", scalars: 16)
        #expect(cut.text == "sent to" && cut.cut)
        #expect(PersonalDataMask.mask(cut.text) == cut.text)
    }

    @Test func aCutAfterANumberKeepsIt() {
        #expect(TextCut.prefix("code 42, then more", scalars: 7) == ("code 42", true))
    }

    @Test func theWorkersErrorCapDoesNotCutANumber() {
        let text = String(repeating: "e", count: Worker.maxErrorLength - 5) + " 09121234567"
        let capped = Worker.capped(text)
        #expect(!capped.contains("0912"), "\(capped)")
        #expect(capped.hasSuffix("characters in all)"))
    }
}
