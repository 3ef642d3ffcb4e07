import Foundation
import Testing

@testable import HoopoeCore

/// Job ids: the 26-character time-ordered shape every client and the dashboard's lookup rely on, and no repeats,
/// now that the random part comes from a pool refilled 4 KiB at a time (``RandomBytePool``).
@Suite struct JobIDTests {
    private static let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    @Test func idsHaveTheShapeAndTimeTheProtocolSays() {
        let time = Date(timeIntervalSince1970: 1_764_500_000.123)
        for _ in 0..<1000 {
            let id = JobID.make(now: time)
            #expect(id.utf8.count == 26)
            #expect(id.utf8.allSatisfy(Self.alphabet.contains))
            #expect(JobID.milliseconds(of: id) == 1_764_500_000_123)
            #expect(EnvelopeRules.idProblem(id) == nil)
        }
        #expect(JobID.make(now: Date(timeIntervalSince1970: 1)) < JobID.make(now: Date(timeIntervalSince1970: 2)), "ids sort by time")
    }

    @Test func idsMadeAtOnceFromManyThreadsNeverRepeat() async {
        // Same millisecond on purpose: only the random part tells them apart, across many pool refills.
        let time = Date()
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { (0..<20_000).map { _ in JobID.make(now: time) } } }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(Set(ids).count == ids.count)
        // Every random character uses the whole alphabet (a pool handing out zeros or one repeated block would not).
        for position in 10..<26 {
            let seen = Set(ids.prefix(2000).map { Array($0.utf8)[position] })
            #expect(seen.count == 32, "position \(position)")
        }
    }
}
