import Testing

@testable import HoopoeCore

/// The worker writes a history record's text straight into an array (``HistoryRecord/text(envelopeJSON:)``): it must
/// be, byte for byte, the header `CompactJSONWriter` writes (``HistoryRecord/encoded(envelopeJSON:)``), whatever the
/// strings hold (escapes, controls, non-ASCII) and whatever the numbers are.
@Suite struct HistoryRecordTextTests {
    static let texts = [
        "", "j-01JBQ5X", "sms.send", "default", "quote \" backslash \\ slash /", "line\nbreak\ttab\r\u{08}\u{0C}", "\u{01}\u{1F}\u{7F}",
        "مریم 🐦 e\u{301}", String(repeating: "\"", count: 300), "host-1:4242:abcd",
    ]
    static let numbers: [Double] = [0, 1, 0.0005, 0.0015, 1_795_400_000.123, 1_796_057_893.0323012, -2.5, 999_999_999_999_999, 1e15, -1e15, .infinity, .nan, -0.0]

    @Test func theTextIsTheEncodedRecordByteForByte() {
        var random = SeededRandom(seed: 0x41)
        func text() -> String { Self.texts[Int.random(in: 0..<Self.texts.count, using: &random)] }
        func number() -> Double { Self.numbers[Int.random(in: 0..<Self.numbers.count, using: &random)] }
        let attempts = [0, 1, 9, 10, 99, 100, 12_345, -7, Int.max, Int.min]
        for round in 0..<3_000 {
            let record = HistoryRecord(
                id: text(), type: text(), queue: text(), outcome: HistoryRecord.Outcome.allCases[round % HistoryRecord.Outcome.allCases.count],
                attempt: attempts[round % attempts.count], duration: round % 3 == 0 ? nil : number(), worker: round % 4 == 0 ? nil : text(),
                finishedAt: number(), error: round % 2 == 0 ? nil : text(), deferredTo: round % 5 == 0 ? text() : nil)
            let envelope = round % 6 == 0 ? [] : Array(#"{"id":"j1","type":"diag.incr","payload":{"key":"k"},"enqueued_at":1.5}"#.utf8)
            let written = record.text(envelopeJSON: envelope)
            #expect(written == record.encoded(envelopeJSON: envelope), "\(record)")
            #expect(written.count <= record.textCapacity(envelopeBytes: envelope.count))
        }
        for value in [Int64.min, Int64.max, 0, 5, 10, 99, 100, 101, 1_000_000, -1] {
            let record = HistoryRecord(id: "j", type: "t", queue: "q", outcome: .processed, attempt: Int(value), finishedAt: 0)
            #expect(String(decoding: record.text(envelopeJSON: []), as: UTF8.self) == "{\"id\":\"j\",\"type\":\"t\",\"queue\":\"q\",\"outcome\":\"processed\",\"attempt\":\(value),\"finished_at\":0.000}\n")
        }
    }
}
