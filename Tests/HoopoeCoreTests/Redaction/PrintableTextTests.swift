import HoopoeCore
import Testing

struct PrintableTextTests {
    @Test func controlCharactersAreWrittenAsEscapes() {
        #expect(PrintableText.oneLine("a\nb\r\tc") == #"a\nb\r\tc"#)
        #expect(PrintableText.oneLine("x\u{1B}[2J\u{07}\u{7F}\u{85}\u{2028}y") == #"x\u{1B}[2J\u{7}\u{7F}\u{85}\u{2028}y"#)
    }

    @Test func ordinaryTextIsLeftAsItIs() {
        for text in ["sms.send", "پیامک ارسال شد", "boom: 'quoted' \"text\" \\ back", ""] {
            #expect(PrintableText.oneLine(text) == text)
        }
    }
}
