import Foundation
@testable import HoopoeJobs
import Redis
import Testing
import TestSupport

/// The stores are the only code of the domain jobs that speaks to Redis, and every script or transaction they run
/// keeps its keys in one Redis Cluster slot (``StoreRedis`` checks each call in debug builds, so every suite that
/// runs a store method checks that method's keys).
@Suite("Domain stores: one door to Redis, one slot per script")
struct StoreRedisTests {
    @Test("HashSlot is Redis Cluster's CRC16 slot, hash tags included")
    func slotsMatchTheClusterSpecification() {
        // Values from `CLUSTER KEYSLOT` on a cluster node.
        #expect(HashSlot.of("foo") == 12_182)
        #expect(HashSlot.of("somekey") == 11_058)
        #expect(HashSlot.of("hello") == 866)
        #expect(HashSlot.of("123456789") == 0x31C3 % 16_384)
        // Only the first {...} with something inside counts.
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("{user1000}.followers"))
        #expect(HashSlot.of("hoopoe:{sms}:msg:1") == HashSlot.of("sms"))
        #expect(HashSlot.of("foo{}{bar}") != HashSlot.of("bar"))
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
    }

    @Test("a script or transaction whose keys span slots is refused before it reaches Redis")
    func crossSlotCallsAreRefused() async throws {
        let h = try await DomainHarness()
        let redis = try h.services().redis
        let script = RedisScript(name: "test.touch", source: "return redis.call('SET', KEYS[1], '1')")
        let spread = ["\(h.namespace):{sms}:a", "\(h.namespace):{gifts}:b"]
        await #expect(throws: HashSlot.CrossSlot.self) { try await redis.run(script, keys: spread, arguments: []) }
        await #expect(throws: HashSlot.CrossSlot.self) {
            try await redis.transaction(keys: spread, spread.map { RedisCommand("SET", $0, "1") })
        }
        #expect(try await h.redis.send("EXISTS", spread[0], spread[1]).int == 0, "nothing ran")
        // One tag, one slot: runs.
        #expect(try await redis.run(script, keys: ["\(h.namespace):{sms}:a", "\(h.namespace):{sms}:b"], arguments: []).string == "OK")
    }

    /// The files that own a Redis area (and the door itself). Everything else in HoopoeJobs goes through them.
    static let stores: Set<String> = [
        "Support/DomainServices.swift", "DomainJobs.swift", "Support/EventLog.swift", "Support/DomainClock.swift",
        "Support/ProviderAlerts.swift", "SMS/SMSLedger.swift", "Gifts/GiftStore.swift", "Gifts/GiftWheel.swift",
        "FreeCredit/FreeCreditLimiter.swift", "Reminders/SubscriptionStore.swift", "Reminders/CreditThresholdStore.swift",
        "Registration/RegistrationStore.swift", "Email/EmailLedger.swift",
        "Support/StoreRedis.swift", "Support/RedisReply+Fields.swift",
        // The run lock's two scripts, shared by the stores that own a lock's key (registration, the low-credit sweep).
        "Support/RunLock.swift",
    ]

    @Test("no file of HoopoeJobs outside a store builds a key, runs a command or holds a script")
    func onlyStoresTouchRedis() throws {
        let root = BuiltProducts.projectRoot.appendingPathComponent("Sources/HoopoeJobs")
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        #expect(files.count > 40)
        let forbidden = ["import Redis", "RedisClient", "RedisCommand", "RedisScript", ".redis", "services.key(", "source: \"\"\""]
        for file in files.sorted() where !Self.stores.contains(file) {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for word in forbidden {
                #expect(!text.contains(word), "\(file) uses \(word): only a store may (StoreRedisTests.stores)")
            }
        }
        for store in Self.stores {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(store).path), "\(store) is gone: update the list")
        }
    }

    @Test("jobs/lua/freecredit.lua and gift_wheel.lua are links to the scripts the stores run, not copies")
    func documentedScriptsAreLinks() throws {
        let root = BuiltProducts.projectRoot
        for (doc, home) in [("jobs/lua/freecredit.lua", "Sources/HoopoeJobs/FreeCredit/Lua/freecredit.lua"),
                            ("jobs/lua/gift_wheel.lua", "Sources/HoopoeJobs/Gifts/Lua/gift_wheel.lua")] {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: root.appendingPathComponent(doc).path)
            let resolved = root.appendingPathComponent(doc).deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL.path
            #expect(resolved == root.appendingPathComponent(home).standardizedFileURL.path, "\(doc) → \(target)")
        }
    }
}
