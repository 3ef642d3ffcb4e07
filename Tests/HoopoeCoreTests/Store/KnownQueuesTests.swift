import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The queues a scan of the keyspace finds are remembered for 30 s for the dashboard and the health check, which
/// would otherwise walk every key of the database on each page and probe; the admin commands still scan.
@Suite struct KnownQueuesTests {
    @Test func aScanIsReusedUntilItExpiresAndTheAdminCommandsRescan() async throws {
        let h = try EngineHarness()
        // A queue only a service's XADD made: no worker registered it, so only a scan finds it.
        try await h.redis.send("XADD", h.jobs.keys("made-by-xadd").stream, "*", "job", "{}")
        #expect(try await h.jobs.knownQueues(rescan: false) == ["made-by-xadd"])
        #expect(try await h.redis.send("TTL", h.jobs.global.scannedQueues).int ?? 0 > 0)

        try await h.redis.send("XADD", h.jobs.keys("later").stream, "*", "job", "{}")
        #expect(try await h.jobs.knownQueues(rescan: false) == ["made-by-xadd"], "the remembered scan, not a new one")
        #expect(try await h.jobs.knownQueues() == ["later", "made-by-xadd"], "an admin command scans")
        #expect(try await h.jobs.knownQueues(rescan: false) == ["later", "made-by-xadd"], "and leaves its scan for the others")

        // Registered queues (a worker's) are read every time; a scan that found nothing is remembered too.
        try await h.redis.send("SADD", h.jobs.global.queues, "served")
        #expect(try await h.jobs.knownQueues(rescan: false) == ["later", "made-by-xadd", "served"])
        try await h.redis.send("DEL", h.jobs.keys("later").stream, h.jobs.keys("made-by-xadd").stream)
        #expect(try await h.jobs.knownQueues() == ["served"])
        #expect(try await h.redis.send("SMEMBERS", h.jobs.global.scannedQueues).array?.compactMap(\.string) == [""])
        try await h.redis.send("XADD", h.jobs.keys("unseen").stream, "*", "job", "{}")
        #expect(try await h.jobs.knownQueues(rescan: false) == ["served"])
    }
}

/// A namespace is free text apart from braces and spaces: `SCAN … MATCH` takes it literally.
@Suite struct KnownQueuesGlobTests {
    @Test func aNamespaceWithGlobCharactersFindsItsOwnQueuesOnly() async throws {
        let h = try EngineHarness()
        let bracketed = JobQueue(redis: h.redis, namespace: h.namespace + "[1]*?")
        let stranger = JobQueue(redis: h.redis, namespace: h.namespace + "1xy")
        try await h.redis.send("XADD", bracketed.keys("mine").stream, "*", "job", "{}")
        try await h.redis.send("XADD", stranger.keys("theirs").stream, "*", "job", "{}")
        #expect(try await bracketed.knownQueues() == ["mine"], "as a pattern, [1]*? matched the other namespace's keys and not its own")
        #expect(try await stranger.knownQueues() == ["theirs"])
    }

    /// A unique lock whose client-given key ends in `}:stream` is not a queue.
    @Test func aUniqueKeyThatLooksLikeAStreamIsNoQueue() async throws {
        let h = try EngineHarness()
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail", uniqueKey: "x}:stream"))
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail", uniqueKey: "y}:dead"))
        #expect(try await h.jobs.knownQueues() == ["mail"])
        #expect(JobStore.queueName(ofKey: "ns:{mail}:history:jobs", namespace: "ns") == "mail")
        #expect(JobStore.queueName(ofKey: "ns:{mail}:unique:x}:stream", namespace: "ns") == nil)
        #expect(JobStore.queueName(ofKey: "nsx:{mail}:stream", namespace: "ns") == nil)
    }
}
