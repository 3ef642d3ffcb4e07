import Foundation
import ProviderFakes
import Providers
import Testing

@Suite("Kavenegar status, batching and localid idempotency")
struct KavenegarStatusTests {
    @Test func statusFollowsTheLifecycle() async throws {
        try await withHarness { h in
            await h.control.setKavenegarLifecycle([1, 4, 10])
            let client = h.kavenegar()
            let sent = try await client.send(KavenegarSend(receptors: ["09121234567"], message: "x", localIDs: ["a"]))
            let id = try #require(sent.first?.messageID)
            #expect(sent.first?.deliveryState == .pending)
            let first = try await client.status(messageIDs: [id])
            let second = try await client.status(messageIDs: [id])
            #expect(first.map(\.status) == [4])
            #expect(first.map(\.deliveryState) == [.pending])
            #expect(second.map(\.status) == [10])
            #expect(second.map(\.deliveryState) == [.delivered])
        }
    }

    /// Kavenegar `100` is "invalid message id" (seed 002, Table 2): its own state, not `expired` (which the worker
    /// gives a message it stopped asking about after 48 h).
    @Test func unknownIdsComeBackAs100InvalidID() async throws {
        try await withHarness { h in
            let statuses = try await h.kavenegar().status(messageIDs: [999])
            #expect(statuses == [KavenegarMessageStatus(messageID: 999, status: 100, statusText: "شناسه پیامک نامعتبر است")])
            #expect(statuses.first?.deliveryState == .invalidID)
            #expect(statuses.first?.deliveryState.isFinal == true)
            #expect(DeliveryState.invalidID.rawValue == "invalid_id")
        }
    }

    @Test func statusIsSplitIntoBatchesOf500() async throws {
        try await withHarness { h in
            let ids = (1...1_201).map(Int64.init)
            let statuses = try await h.kavenegar().status(messageIDs: ids)
            #expect(statuses.map(\.messageID) == ids)
            let requests = await h.control.requests(to: .kavenegarStatus)
            let batchSizes = requests.map { request in
                request.bodyText.dropFirst("messageid=".count).components(separatedBy: "%2C").count
            }
            #expect(batchSizes == [500, 500, 201])
        }
    }

    @Test func retryWithSameLocalIDDoesNotSendTwice() async throws {
        try await withHarness { h in
            let client = h.kavenegar()
            let send = KavenegarSend(receptors: ["+989121234567"], message: "x", localIDs: ["job-42"])
            let first = try await client.send(send)
            let second = try await client.send(send)
            #expect(first.map(\.messageID) == second.map(\.messageID))
            #expect(await h.control.kavenegarMessageCount() == 1)
            #expect(await h.control.kavenegarCredit() == 1_500_000 - 120)
        }
    }

    @Test func sendTimeoutIsRetryableAndNotUnknownThanksToLocalID() async throws {
        try await withHarness { h in
            await h.control.enqueue(Harness.actedThenSlow, for: .kavenegarSend)
            let client = h.kavenegar(timeouts: Harness.createThenTimeOut)
            let send = KavenegarSend(receptors: ["09121234567"], message: "x", localIDs: ["job-7"])
            let error = try #require(await providerError { try await client.send(send) })
            #expect(error.kind == .timeout)
            #expect(error.disposition == .retry(after: nil))
            #expect(!error.outcomeUnknown)
            // The retry is safe: the fake returns the record it already has. (A patient client: the
            // 300 ms deadline was only to provoke the first timeout, and would flake on a loaded machine.)
            let retried = try await h.kavenegar().send(send)
            #expect(retried.count == 1)
            #expect(await h.control.kavenegarMessageCount() == 1)
        }
    }
}
