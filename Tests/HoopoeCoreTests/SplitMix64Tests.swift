import Testing

@testable import HoopoeCore

/// The fetch loop's queue order is drawn from ``SplitMix64``: it must be the published generator (the seeded test
/// data depend on it too) and spread the weighted order as the weights say.
@Suite struct SplitMix64Tests {
    @Test func itIsThePublishedSequence() {
        var random = SplitMix64(seed: 0)
        #expect([random.next(), random.next(), random.next()] == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
    }

    @Test func twoSystemSeededGeneratorsDiffer() {
        var one = SplitMix64()
        var other = SplitMix64()
        #expect(one.next() != other.next())
    }

    @Test func theWeightedOrderFollowsTheWeights() throws {
        let selection = try QueueSelection(parsing: "critical:6,default:3,low:1")
        var random = SplitMix64(seed: 17)
        var first: [String: Int] = [:]
        for _ in 0..<10_000 { first[selection.weightedOrder(using: &random)[0], default: 0] += 1 }
        // Expected 6,000 / 3,000 / 1,000; binomial standard deviations ~49 / 46 / 30.
        #expect((5_800...6_200).contains(first["critical"] ?? 0), "\(first)")
        #expect((2_800...3_200).contains(first["default"] ?? 0), "\(first)")
        #expect((850...1_150).contains(first["low"] ?? 0), "\(first)")
    }
}
