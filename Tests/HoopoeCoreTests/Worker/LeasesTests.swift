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

    /// A worker's pattern: fetches appended in order, settles near the front (released by moving the entries before
    /// the gap and advancing past the freed slot), now and then one from the middle or the back, a refetch of one below
    /// everything held, and the set emptied and filled again; after every step exactly what was not released is held.
    @Test func releasesNearTheFrontLeaveExactlyTheRest() {
        let leases = Leases()
        var expected = Set<String>()
        var next = 0
        var generator = SplitMix64(seed: 64)
        func id(_ n: Int) -> String { "\(1_764_728_000_000 + n / 7)-\(n % 7)" }
        for round in 0..<400 {
            let fetched = (0..<Int.random(in: 0...12, using: &generator)).map { _ -> String in
                next += 1
                return id(next)
            }
            leases.hold(fetched.map { job("q", $0) })
            expected.formUnion(fetched)
            let sorted = expected.sorted { HeldEntryID($0)! < HeldEntryID($1)! }
            var released: [String] = []
            for _ in 0..<min(sorted.count, Int.random(in: 0...12, using: &generator)) {
                let pick = Int.random(in: 0..<10, using: &generator)
                let candidates = sorted.filter { !released.contains($0) }
                guard !candidates.isEmpty else { break }
                // Mostly among the oldest few, as jobs settle; sometimes the newest or one anywhere.
                let index = pick < 7 ? min(Int.random(in: 0..<4, using: &generator), candidates.count - 1)
                    : pick < 9 ? candidates.count - 1 : Int.random(in: 0..<candidates.count, using: &generator)
                released.append(candidates[index])
            }
            if round % 3 == 0 {
                for one in released { leases.release(queue: "q", entryID: one, held: HeldEntryID(one)) }
            } else {
                leases.release(released.map { (queue: "q", entryID: $0, held: HeldEntryID($0)) })
            }
            expected.subtract(released)
            if round % 50 == 49, let oldest = sorted.first, !expected.contains(oldest) {
                leases.hold([job("q", oldest)])  // below everything held: goes into a freed slot's place
                expected.insert(oldest)
            }
            if round % 97 == 96 {
                leases.release(queue: "q", entryIDs: Array(expected))
                expected.removeAll()
            }
            #expect(held(leases) == (expected.isEmpty ? [:] : ["q": expected]), "round \(round)")
            for one in released where !expected.contains(one) { #expect(!leases.holds(queue: "q", entryID: one)) }
            if let any = expected.first { #expect(leases.holds(queue: "q", entryID: any)) }
        }
    }
}
