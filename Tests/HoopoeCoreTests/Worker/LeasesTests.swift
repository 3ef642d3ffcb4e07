@testable import HoopoeCore
import Testing

/// What lease renewal is handed: exactly the entries held and not yet released, as the text they were fetched with.
struct LeasesTests {
    private func job(_ queue: String, _ id: String) -> FetchedJob {
        FetchedJob(queue: queue, entryID: id, bytes: [], deliveries: 1)
    }

    private func held(_ leases: Leases) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for (queue, ids) in leases.snapshot() where !ids.isEmpty {
            #expect(Set(ids).count == ids.count, "an id listed twice for \(queue)")
            result[queue] = Set(ids)
        }
        return result
    }

    @Test func heldEntriesAreRenewedUntilReleasedEachWay() {
        let leases = Leases()
        leases.hold([job("a", "1764728000000-0"), job("a", "1764728000000-1"), job("b", "1764728000001-7"), job("a", "1764728000002-12")])
        leases.hold([job("b", "18446744073709551615-18446744073709551615")])
        #expect(held(leases) == [
            "a": ["1764728000000-0", "1764728000000-1", "1764728000002-12"],
            "b": ["1764728000001-7", "18446744073709551615-18446744073709551615"],
        ])

        leases.release(queue: "a", entryID: "1764728000000-1", held: HeldEntryID("1764728000000-1"))
        leases.release(queue: "b", entryIDs: ["18446744073709551615-18446744073709551615"])
        // A batch's ids come with their numbers, read once with the job (`FetchedJob.held`).
        let batch = [job("a", "1764728000000-0"), job("b", "1764728000001-7")]
        #expect(batch.map(\.held) == [HeldEntryID("1764728000000-0"), HeldEntryID("1764728000001-7")] && batch.allSatisfy { $0.held != nil })
        leases.release(batch.map { (queue: $0.queue, entryID: $0.entryID, held: $0.held) })
        #expect(held(leases) == ["a": ["1764728000002-12"]])

        // Releasing what is not held (another queue's id, an unknown queue) changes nothing.
        leases.release(queue: "b", entryID: "1764728000002-12", held: HeldEntryID("1764728000002-12"))
        leases.release(queue: "c", entryID: "1764728000002-12", held: HeldEntryID("1764728000002-12"))
        #expect(held(leases) == ["a": ["1764728000002-12"]])
    }

    /// Whether an entry is held: a cancel's holder check (decision 0089).
    @Test func holdsSaysWhatIsHeldUntilReleased() {
        let leases = Leases()
        leases.hold([job("a", "1764728000000-0"), job("a", "1764728000000-1"), job("a", "odd")])
        #expect(leases.holds(queue: "a", entryID: "1764728000000-1") && leases.holds(queue: "a", entryID: "odd"))
        #expect(!leases.holds(queue: "a", entryID: "1764728000000-2") && !leases.holds(queue: "b", entryID: "1764728000000-0"))
        leases.release(queue: "a", entryIDs: ["1764728000000-1", "odd"])
        #expect(!leases.holds(queue: "a", entryID: "1764728000000-1") && !leases.holds(queue: "a", entryID: "odd"))
        #expect(leases.holds(queue: "a", entryID: "1764728000000-0"))
    }

    /// Ids Redis would not write (leading zeros, a part beyond 64 bits, no dash) are renewed as the very text held:
    /// read as numbers, "01-1" would come back as "1-1" and renew nothing.
    @Test func idsNotInRedisFormAreKeptAsGiven() {
        let leases = Leases()
        let odd = ["01-1", "1-01", "99999999999999999999-1", "no-dash-at-all", "7", "-", "1-", ""]
        leases.hold(odd.map { job("q", $0) } + [job("q", "1-1"), job("q", "0-0")])
        #expect(held(leases) == ["q": Set(odd + ["1-1", "0-0"])])
        leases.release(queue: "q", entryIDs: odd)
        #expect(held(leases) == ["q": ["1-1", "0-0"]])
    }

    /// Many entries of one queue in and out, in another order than held (as jobs finish), so removals move
    /// neighbours in the hash table: what is left is exactly what was not released.
    @Test func manyEntriesReleasedOutOfOrder() {
        let leases = Leases()
        let ids = (0..<2_000).map { "\(1_764_728_000_000 + $0 / 3)-\($0 % 3)" }
        leases.hold(ids.map { job("q", $0) })
        var generator = SplitMix64(seed: 26)
        let order = ids.shuffled(using: &generator)
        leases.release(queue: "q", entryIDs: order.prefix(1_500))
        #expect(held(leases) == ["q": Set(order.dropFirst(1_500))])
    }
}
