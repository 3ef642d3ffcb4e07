import HoopoeCore
import Testing

/// `--queues` read piece by piece, empty pieces kept: `:3` served a queue named `3`, and `default:` took weight 1.
@Suite struct QueueSelectionParsingTests {
    @Test(arguments: [
        ("critical:6,:3,low:1", "':3' has no queue name before its weight"),
        ("critical:6,default:,low:1", "'default:' has no weight after its colon"),
        (":", "':' has no queue name before its weight"),
        ("a,,b", "'' is not a queue name"),
        ("a:b:c", "the weight in 'a:b:c' must be a whole number"),
    ])
    func anEmptyNameOrWeightIsRefused(text: String, message: String) {
        #expect(performing: { try QueueSelection(parsing: text) }, throws: { "\($0)".contains(message) })
    }

    @Test func namesAndWeightsAsGiven() throws {
        let selection = try QueueSelection(parsing: "critical:6, default ,low:1")
        #expect(selection.names == ["critical", "default", "low"])
        #expect(selection.queues.map(\.weight) == [6, 1, 1])
    }
}
