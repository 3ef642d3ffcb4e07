import HoopoeCore
import Testing

/// `hoopoe dead list` prints types and errors from Redis through ``PrintableText``: a bidi override (U+202E) or isolate
/// in a type reordered the rest of its line in a terminal. They are written as escapes; Persian text is not touched.
struct PrintableTextBidiTests {
    @Test func bidiEmbeddingsOverridesAndIsolatesAreWrittenAsEscapes() {
        #expect(PrintableText.oneLine("invoice\u{202E}fdp.exe") == #"invoice\u{202E}fdp.exe"#)
        #expect(PrintableText.oneLine("a\u{202A}b\u{202B}c\u{202C}d\u{202D}e") == #"a\u{202A}b\u{202B}c\u{202C}d\u{202D}e"#)
        #expect(PrintableText.oneLine("\u{2066}x\u{2067}y\u{2068}z\u{2069}") == #"\u{2066}x\u{2067}y\u{2068}z\u{2069}"#)
    }

    @Test func persianAndItsMarksAreLeftAsTheyAre() {
        for text in ["پیامک\u{200C}ها", "\u{200F}ارسال شد\u{200E} 12", "sms.send"] {
            #expect(PrintableText.oneLine(text) == text)
        }
    }
}
