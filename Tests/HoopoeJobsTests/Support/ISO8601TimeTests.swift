import Foundation
import HoopoeJobs
import Testing

@testable import HoopoeCore

/// `ISO8601Time` reads what was written and nothing else: Foundation's `ISO8601DateFormatter` rolled impossible days
/// over, ignored trailing text and misread offsets.
@Suite("ISO 8601 times, read strictly")
struct ISO8601TimeTests {
    @Test("the forms clients write: Z, ±HH:MM, ±HHMM, ±HH, -00:00, ±14:00, fractional seconds, 29 February of a leap year")
    func accepted() throws {
        let utc = Date(timeIntervalSince1970: 1_734_220_800)  // 2024-12-15T00:00:00Z
        for text in ["2024-12-15T00:00:00Z", "2024-12-15T03:30:00+03:30", "2024-12-15T03:30:00+0330", "2024-12-15T03:00:00+03",
                     "2024-12-15T00:00:00-00:00", "2024-12-15T14:00:00+14:00", "2024-12-14T10:00:00-14:00"] {
            #expect(try ISO8601Time.parse(text).get() == utc, "\(text)")
        }
        #expect(try ISO8601Time.parse("2024-12-15T00:00:00.250Z").get() == utc.addingTimeInterval(0.25))
        #expect(try ISO8601Time.parse("2024-02-29T20:30:00+03:30").get() == Date(timeIntervalSince1970: 1_709_226_000))
        #expect(try ISO8601Time.parse("2000-02-29T00:00:00Z").get() == Date(timeIntervalSince1970: 951_782_400))
        #expect(try ISO8601Time.parse("1969-12-31T23:59:59Z").get() == Date(timeIntervalSince1970: -1))
    }

    /// The days, times and offsets come from a fixed seed (HoopoeCore's `SplitMix64`), so a disagreement found once is
    /// found on every run, and can be looked into.
    @Test("days of 1900-2200 (every 1 to 45 days) at a random time and offset: the instant Foundation's parser gives for a valid text")
    func agreesWithFoundationOnValidTimes() {
        var random = SplitMix64(seed: 0x1509)
        let foundation = ISO8601DateFormatter()
        var disagreements: [String] = []
        var day = Date(timeIntervalSince1970: -2_208_988_800)  // 1900-01-01
        while day.timeIntervalSince1970 < 7_258_118_400 {
            foundation.timeZone = TimeZone(secondsFromGMT: Int.random(in: -56...56, using: &random) * 15 * 60)!
            let instant = day.addingTimeInterval(Double(Int.random(in: 0..<86_400, using: &random)))
            let text = foundation.string(from: instant)
            if (try? ISO8601Time.parse(text).get()) != instant { disagreements.append(text) }
            day = day.addingTimeInterval(Double(Int.random(in: 1...45, using: &random)) * 86_400)
        }
        #expect(disagreements.isEmpty)
    }

    @Test("impossible days and times, offsets past ±14:00, trailing text and loose forms are refused")
    func refused() {
        let outOfRange = ["2023-02-30T10:00:00Z", "2025-02-29T20:30:00+03:30", "1900-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
                          "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-12-00T00:00:00Z", "2024-12-15T24:00:00Z",
                          "2024-12-15T23:60:00Z", "2024-12-15T23:59:60Z", "2024-12-15T20:30:00+99:00", "2024-12-15T20:30:00+03:99",
                          "2024-12-15T20:30:00+14:30", "2024-12-15T20:30:00-15"]
        for text in outOfRange {
            guard case .failure(.outOfRange(let reason)) = ISO8601Time.parse(text) else {
                Issue.record("\(text): \(ISO8601Time.parse(text))")
                continue
            }
            #expect(!reason.isEmpty)
        }
        if case .failure(let problem) = ISO8601Time.parse("2023-02-30T10:00:00Z") { #expect(problem.description == "2023-02 has no day 30") }
        let malformed = ["2024-12-15T20:30:00Zjunk", "2024-12-15T20:30:00+03:30junk", "2024-12-15T20:30:00+0330junk",
                         "2024-12-15T20:30:00+03:30:00", "2024-12-15T20:30:00", "2024-12-15T20:30Z", "2024-1-5T20:30:00Z",
                         "2024-12-15T2:30:00Z", "02024-12-15T20:30:00Z", " 2024-12-15T20:30:00Z", "2024-12-15T20:30:00Z ",
                         "2024-12-15 20:30:00Z", "2024-12-15t20:30:00z", "2024-12-15T20:30:00.Z", "2024-12-15T20:30:00,5Z",
                         "2024-12-15T20:30:00+03:", "2024-12-15T20:30:00+3:30", "۲۰۲۴-12-15T20:30:00Z", "20241215T203000Z", ""]
        for text in malformed {
            #expect(ISO8601Time.parse(text) == .failure(.notISO8601), "\(text)")
        }
    }
}
