import Foundation
import HoopoeCore
import Testing

@Suite struct LogTimestampTests {
    @Test("the log's timestamp is the ISO 8601 text Foundation's formatter gives, in UTC with milliseconds",
          arguments: [0, 951_782_400, 1_764_494_671, 1_798_761_599, 4_102_444_800])
    func theSameTextAsFoundationsFormatter(seconds: Int) {
        for milliseconds in [0, 7, 593, 999] {
            let expected = ISO8601DateFormatter.string(
                from: Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds) / 1000 + 0.0001), timeZone: .gmt,
                formatOptions: [.withInternetDateTime, .withFractionalSeconds])
            #expect(LogTimestamp.format(seconds: seconds, milliseconds: milliseconds) == expected)
        }
    }

    @Test("now is within a second of the system clock")
    func nowIsNow() throws {
        let text = LogTimestamp.now()
        let parsed = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime]).prefix(4).description
        #expect(text.hasPrefix(parsed))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(formatter.date(from: text))
        #expect(abs(date.timeIntervalSinceNow) < 1)
    }
}
