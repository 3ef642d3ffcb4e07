import Testing

@testable import HoopoeCore

/// The name rules (a job's id, type and queue) decide whether a job runs or goes to the dead set, at enqueue and in
/// the worker. Their hot path tests each byte against a bit set; these tests hold it to the rules as written
/// (`jobs/PROTOCOL.md`), spelled out here the slow way, on every byte and every shape of dots and lengths.
@Suite struct EnvelopeRulesTests {
    /// The rules as the protocol states them, one character at a time.
    private static func isName(_ text: String, limit: Int, colon: Bool) -> Bool {
        let allowed = colon ? nameCharactersWithColon : nameCharacters
        return !text.isEmpty && text.utf8.count <= limit && text.allSatisfy { allowed.contains($0) }
    }

    private static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    private static let nameCharactersWithColon = nameCharacters.union([":"])

    /// `^(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`.
    private static func isQueue(_ text: String) -> Bool {
        isName(text, limit: 64, colon: false) && !text.hasPrefix(".") && !text.contains("..")
    }

    private static func check(_ text: String) {
        #expect((EnvelopeRules.queueProblem(text) == nil) == isQueue(text), "queue \(text.debugDescription)")
        #expect((EnvelopeRules.typeProblem(text) == nil) == isName(text, limit: 100, colon: true), "type \(text.debugDescription)")
        #expect((EnvelopeRules.idProblem(text) == nil) == isName(text, limit: 128, colon: true), "id \(text.debugDescription)")
    }

    @Test func everyCharacterAtEveryPlaceIsJudgedByTheRules() {
        var scalars = (0...0x7F).compactMap(Unicode.Scalar.init(_:))
        scalars += ["\u{80}", "\u{FF}", "é", "ی", "😀", "\u{301}"]
        for scalar in scalars {
            Self.check(String(Character(scalar)))
            // Names of 1 to 18 characters, the character at each place: a byte at a time below eight, eight at a time
            // from eight, with a tail read in the last word again.
            for length in 1...18 {
                for place in 0..<length {
                    var text = String(repeating: "a", count: length - 1)
                    text.insert(Character(scalar), at: text.index(text.startIndex, offsetBy: place))
                    Self.check(text)
                }
            }
        }
    }

    @Test func dotsColonsAndLengthsAreJudgedByTheRules() {
        let samples = [
            "", ".", "..", "a.", ".a", "a..b", "a.b.c", "a...b", "a:b", ":", "default", "diag.incr", "sms:reminder", "-", "_",
            "01KB7Z3Y5QWERTYASDFGHJKLZX", "a b", "a\u{0}b",
        ]
        for sample in samples { Self.check(sample) }
        for length in [1, 15, 16, 63, 64, 65, 99, 100, 101, 127, 128, 129, 300] {
            Self.check(String(repeating: "q", count: length))
            Self.check(String(repeating: "q", count: length - 1) + ":")
            Self.check(String(repeating: "q", count: length - 1) + "é")
        }
    }

    @Test func theProblemIsWorded() {
        #expect(EnvelopeRules.queueProblem("a..b") == "must not contain '..' (got 'a..b')")
        #expect(EnvelopeRules.queueProblem(".a") == "must not start with '.' (got '.a')")
        #expect(EnvelopeRules.queueProblem("a:b") == "may only contain A-Z a-z 0-9 . _ - (got 'a:b')")
        #expect(EnvelopeRules.typeProblem("") == "must not be empty")
        #expect(EnvelopeRules.typeProblem(String(repeating: "t", count: 101)) == "must be at most 100 characters (got 101)")
    }
}
