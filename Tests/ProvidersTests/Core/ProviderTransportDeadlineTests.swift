import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1
import ProviderFakes
import Testing

@testable import Providers

#if canImport(Glibc)
import Glibc
#endif

/// `ProviderTimeouts.total` bounds the whole call, the body included, and `connect` is the client's own: a provider
/// whose answer trickles in, or whose address never accepts, fails at the client's limits with the error a late head
/// gives, so the job moves on instead of running into its own timeout.
@Suite("The transport's deadline and connect limit")
struct ProviderTransportDeadlineTests {
    /// How long a test waits for a call before calling it hung: well past the limits under test, well short of the
    /// fake's trickle (its body takes minutes).
    static let hung = Duration.seconds(25)

    /// Runs `call`, or records an issue and returns nil when it has not ended after ``hung``.
    func bounded<T: Sendable>(_ call: @escaping @Sendable () async -> T) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await call() }
            group.addTask {
                try? await Task.sleep(for: Self.hung)
                return nil
            }
            defer { group.cancelAll() }
            let first = await group.next() ?? nil
            if first == nil { Issue.record("the call was still running after \(Self.hung)") }
            return first
        }
    }

    /// The head at once, then one byte a second: the send is acted on, and fails at its 3 s total as a timeout whose
    /// outcome is unknown, as when the head itself is late (``TransportFailureTests/ippanelSendTimeoutIsUnknown``).
    @Test func aTricklingBodyFailsAtTheTotalDeadline() async throws {
        try await withHarness { h in
            await h.control.enqueue(.slowBody(.seconds(1)), for: .ippanelSend)
            let client = h.ippanel(timeouts: Harness.createThenTimeOut)
            let started = ContinuousClock.now
            let error = await bounded {
                await providerError {
                    try await client.sendPattern(IPPanelPatternMessage(code: "abc", recipient: "+989121234567", params: ["code": "1234"]))
                }
            }
            let elapsed = ContinuousClock.now - started
            let failure = try #require(error ?? nil)
            #expect(failure.kind == .timeout)
            #expect(failure.code == "timeout")
            #expect(failure.disposition == .retry(after: nil))
            #expect(failure.outcomeUnknown, "the head came: the provider took the request")
            #expect(failure.httpStatus == nil)
            #expect(elapsed < .seconds(10), "\(elapsed)")
            #expect(await h.control.ippanelBulkCount() == 1)  // it did go out
            // The failure line gives the time to the millisecond, not a long fraction the phone mask could take.
            let line = try #require(h.logs.lines.first { $0.contains("provider transport failure") })
            #expect(line.contains("error=timeout: HTTPClientError.deadlineExceeded"), "\(line)")
            #expect(line.range(of: #"elapsed=\d+\.\d{3}s( |$)"#, options: .regularExpression) != nil, "\(line)")
        }
    }

    /// A read (idempotent) that trickles fails the same way, its outcome known: nothing was changed.
    @Test func aTricklingReadIsARetryableTimeout() async throws {
        try await withHarness { h in
            await h.control.enqueue(.slowBody(.seconds(1)), for: .brevoListChildren)
            let client = h.brevo(timeouts: .init(connect: .seconds(2), total: .seconds(2)))
            let error = await bounded { await providerError { try await client.listChildren() } }
            let failure = try #require(error ?? nil)
            #expect(failure.kind == .timeout)
            #expect(!failure.outcomeUnknown)
        }
    }

    /// A body over the 4 MiB limit, sent without a length, is refused as it streams: a transport failure, not a
    /// process that reads it all.
    @Test func anOversizedBodyIsRefused() async throws {
        try await withHarness { h in
            await h.control.enqueue(.oversizedBody(bytes: 6 << 20), for: .kavenegarAccountInfo)
            let client = h.kavenegar()
            let error = await bounded { await providerError { try await client.accountInfo() } }
            let failure = try #require(error ?? nil)
            #expect(failure.kind == .transport)
            #expect(failure.disposition == .retry(after: nil))
            #expect(failure.httpStatus == nil)
            #expect(await h.control.requests(to: .kavenegarAccountInfo).count == 1)
        }
    }

    /// The answer as the clients get it when it is whole: the fault's padding is JSON whitespace, so a body under the
    /// limit still parses.
    @Test func anOversizedFaultUnderTheLimitStillParses() async throws {
        try await withHarness { h in
            await h.control.enqueue(.oversizedBody(bytes: 200 << 10), for: .kavenegarAccountInfo)
            let account = try await h.kavenegar().accountInfo()
            #expect(account.remainingCredit == h.options.kavenegarCredit)
        }
    }

    /// A client's own connect limit applies, not the shared client's default: an address that never accepts fails
    /// at 300 ms, long before the shared 10 s, as a connect timeout (nothing sent, the next provider may go at once).
    @Test func aClientsConnectLimitIsItsOwn() async throws {
        let listener = try UnacceptingListener()
        defer { listener.close() }
        let http = ProviderHTTPClient(connectTimeout: .seconds(10))
        let transport = ProviderTransport(
            provider: .ippanel, http: http, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            totalTimeout: .seconds(8), redactor: Redactor(secrets: []), connectTimeout: .milliseconds(300))
        let request = ProviderRequest(
            method: .POST, url: "http://127.0.0.1:\(listener.port)/api/send", headers: [], body: Array("{}".utf8),
            operation: "send/pattern", idempotent: false)
        let started = ContinuousClock.now
        let error = await bounded { await providerError { try await transport.send(request) } }
        let elapsed = ContinuousClock.now - started
        try await http.shutdown()
        let failure = try #require(error ?? nil)
        #expect(failure.kind == .timeout)
        #expect(!failure.outcomeUnknown, "the connection never existed: nothing was sent")
        #expect(elapsed < .seconds(5), "\(elapsed)")
    }

    /// Requests with one connect limit share one `HTTPClient`; another limit gets its own; all are shut down.
    @Test func oneHTTPClientPerConnectLimit() async throws {
        let http = ProviderHTTPClient(connectTimeout: .seconds(5))
        #expect(!http.isMade)
        let fallback = try http.client()
        #expect(try http.client(connectTimeout: .seconds(5)) === fallback)
        let short = try http.client(connectTimeout: .seconds(1))
        #expect(short !== fallback)
        #expect(try http.client(connectTimeout: .seconds(1)) === short)
        try await http.shutdown()
        #expect(http.isMade)
    }

    @Test func elapsedIsLoggedToTheMillisecond() {
        #expect(ProviderTransport.loggedSeconds(.seconds(119) + .nanoseconds(992_684_999)) == "119.993s")
        #expect(ProviderTransport.loggedSeconds(.milliseconds(5)) == "0.005s")
        #expect(ProviderTransport.loggedSeconds(.microseconds(999_600)) == "1.000s")
        #expect(ProviderTransport.loggedSeconds(.zero) == "0.000s")
    }
}

/// A loopback port whose listener never accepts, with its one-connection queue already full: a connect to it gets no
/// answer (the kernel drops the SYN), as with a host that is down behind a firewall, without leaving this machine.
private final class UnacceptingListener: Sendable {
    let port: Int
    private let listening: Int32
    private let filler: Int32

    init() throws {
        struct SocketError: Error { var call: String }
        let stream = Int32(SOCK_STREAM.rawValue)
        let listening = socket(AF_INET, stream, 0)
        let filler = socket(AF_INET, stream, 0)
        guard listening >= 0, filler >= 0 else { throw SocketError(call: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(listening, generic, length) == 0 && listen(listening, 0) == 0 && getsockname(listening, generic, &length) == 0
            }
        }
        guard bound else { throw SocketError(call: "bind/listen") }
        // The one connection the queue holds (the kernel completes it without an accept).
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, length) == 0 }
        }
        guard connected else { throw SocketError(call: "connect") }
        self.listening = listening
        self.filler = filler
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        _ = Glibc.close(filler)
        _ = Glibc.close(listening)
    }
}
