import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import Testing

/// A type whose handler shows a path named like a secret, as `sms.send`'s `tokens.token`, and declares no secret.
private struct TemplateSMS: JobHandler {
    struct Payload: Codable, Sendable { let tokens: [String: String] }
    static let type = "test.template_sms"
    var payloadPathsNamedLikeSecrets: Set<String> { ["tokens.token"] }
    func run(_ payload: Payload, context: JobContext) async throws {}
}

/// A known type's payload too large to keep whole was cut to 64 KiB of text with its `api_key` in it, and no output
/// could strip a key from the cut text: `job show`, `dead show` and the job page printed it. A garbled envelope of a
/// known type holding `"api_key"` was kept as raw text and printed too (a review found both).
@Suite struct DeadCutPayloadSecretsTests {
    @Test func neitherACutNorAGarbledKnownTypeKeepsASecretName() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry()
        registry.register(TemplateSMS())
        let type = TemplateSMS.type
        let blob = String(repeating: "x", count: 600 * 1024)
        let stream = h.jobs.keys("default").stream
        for body in [
            // Over the size limit: its payload is cut to text.
            #"{"id":"big1","type":"\#(type)","payload":{"api_key":"LEAKBIG1","x-api-key":"LEAKBIG2","tokens":{"token":"3"},"zblob":"\#(blob)"}}"#,
            // A payload the full decoder refuses (a lone surrogate where its handler reads): kept as raw text, unless it may hold a secret.
            #"{"id":"mal1","type":"\#(type)","payload":{"api_key":"LEAKMAL1","tokens":{"token":"3","token2":"\ud800"}}}"#,
            #"{"id":"mal2","type":"\#(type)","payload":{"tokens":{"token":"3","token2":"\ud800"}}}"#,
        ] {
            try await h.redis.send("XADD", stream, "*", "job", body)
        }
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.info(queue: "default").dead == 3 })
        worker.shutdown()
        try await task.value

        let stored = (try await h.redis.send("HVALS", h.jobs.keys("default").deadJobs).array ?? []).compactMap(\.string)
        #expect(stored.count == 3)
        let storedLeak = stored.contains { $0.contains("LEAKBIG") || $0.contains("LEAKMAL") }
        #expect(!storedLeak, "a dead-set copy holds the secret")
        let dead = try await h.jobs.deadJobs(queue: "default")
        // The cut payload keeps what its handler shows (the template token), as text.
        let big = try #require(dead.first { $0.id == "big1" })
        let keepsToken = big.payload.stringValue?.contains(#""tokens":{"token":"3"}"#) == true
        #expect(keepsToken, "\(big.payload.stringValue?.prefix(200) ?? "")")
        // A garbled one quoting only the names its type shows is kept, so a person sees what was sent.
        #expect(dead.contains { $0.payload.stringValue?.contains(#""id":"mal2""#) == true })
        let rule = PayloadRedaction(registry: registry)
        let shown = dead.map { String(decoding: rule.redacted($0).encoded(), as: UTF8.self) }.joined(separator: "\n")
        let shownLeak = shown.contains("LEAK")
        #expect(!shownLeak, "an output shows the secret")
    }
}
