import Testing

@testable import Redis

@Suite struct GlobPatternTests {
    @Test func metacharactersAreEscapedAndOtherTextKept() {
        #expect(GlobPattern.literal("hoopoe") == "hoopoe")
        #expect(GlobPattern.literal("a*b?c[d]e\\f") == #"a\*b\?c\[d\]e\\f"#)
        #expect(GlobPattern.literal("صف:۱") == "صف:۱")
    }
}
