import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import Providers

/// A worker's provider calls share one pool of connections a host: sized to its `--concurrency`, every running job
/// has its own, and a wait for one is waited on within the call's total limit, not failed at the connect limit as if
/// the provider were down (a chaos run at `--concurrency 20` against a provider answering in 0.2-1 s lost 1,252
/// attempts to `getConnectionFromPoolTimeout`: AsyncHTTPClient's default pool is 8 connections a host).
@Suite("The providers' connection pool")
struct ProviderPoolTests {
    /// Kavenegar's `account/info` answer, the same whatever was asked.
    static let accountAnswer = #"{"return":{"status":200,"message":"تایید شد"},"entries":{"remaincredit":5000,"expiredate":0,"type":"master"}}"#

    static let silent = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func kavenegar(_ server: HoldingServer, _ http: ProviderHTTPClient, timeouts: ProviderTimeouts = .sms) -> KavenegarClient {
        KavenegarClient(
            configuration: .init(baseURL: "http://127.0.0.1:\(server.port)/v1", apiKey: "pool-test-key", sender: nil, timeouts: timeouts),
            httpClient: http, logger: silent)
    }

    /// `count` account reads at once; each one's error, nil for a success.
    static func readAll(_ count: Int, _ client: KavenegarClient) async -> [ProviderError?] {
        await withTaskGroup(of: ProviderError?.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do throws(ProviderError) {
                        _ = try await client.accountInfo()
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// 64 jobs at once (the worker's client for `--concurrency 64`, its default limits) each call a provider that
    /// holds every request 1 s: all 64 are at the provider together and all succeed. With AsyncHTTPClient's 8
    /// connections, 8 went at a time, and the ones queued behind the fifth wave failed at the 5 s connect limit.
    @Test func aWorkersJobsEachHaveAConnection() async throws {
        let concurrency = 64
        let server = try await HoldingServer.start(hold: .seconds(1), answer: Self.accountAnswer)
        let http = ProviderHTTPClient(concurrentRequests: concurrency)  // as `hoopoe worker --concurrency 64` makes it
        let errors = await Self.readAll(concurrency, Self.kavenegar(server, http))
        try await http.shutdown()
        await server.stop()
        let failures = errors.compactMap(\.self)
        #expect(failures.isEmpty, "\(failures.count) failed, e.g. \(failures.first.map { "\($0)" } ?? "")")
        #expect(!failures.contains { $0.message.contains("getConnectionFromPoolTimeout") })
        #expect(server.counts.served == concurrency)
        #expect(server.counts.maxInFlight == concurrency, "the provider saw at most \(server.counts.maxInFlight) at once")
    }

    /// More calls than connections (12 on the default 8) with a connect limit shorter than the provider's answer:
    /// the 4 queued behind the others wait for a connection to come free and succeed, within the total limit, rather
    /// than fail at the connect limit with a pool timeout.
    @Test func aWaitForAPooledConnectionIsNotAConnectTimeout() async throws {
        let server = try await HoldingServer.start(hold: .seconds(1), answer: Self.accountAnswer)
        let http = ProviderHTTPClient()
        let timeouts = ProviderTimeouts(connect: .milliseconds(400), total: .seconds(8))
        let errors = await Self.readAll(12, Self.kavenegar(server, http, timeouts: timeouts))
        try await http.shutdown()
        await server.stop()
        let failures = errors.compactMap(\.self)
        #expect(failures.isEmpty, "\(failures.count) failed, e.g. \(failures.first.map { "\($0)" } ?? "")")
        #expect(server.counts.served == 12)
        #expect(server.counts.maxInFlight == ProviderHTTPClient.defaultConnectionsPerHost)
    }

    /// A call that waits for a pooled connection past its total limit fails before that limit as `pool-busy`, never
    /// sent: a lookup (no dedupe key) so failed is not "outcome unknown", and its message says the pool was busy, not
    /// that the provider timed out.
    @Test func aWaitPastTheTotalLimitIsPoolBusyAndNotSent() async throws {
        let server = try await HoldingServer.start(hold: .seconds(4), answer: Self.accountAnswer)
        let http = ProviderHTTPClient()
        let timeouts = ProviderTimeouts(connect: .milliseconds(400), total: .milliseconds(1500))
        let client = Self.kavenegar(server, http, timeouts: timeouts)
        // The same connect limit, so the same pool; a longer total limit, so they hold their connections throughout.
        let holding = Self.kavenegar(server, http, timeouts: ProviderTimeouts(connect: timeouts.connect, total: .seconds(10)))
        let holders = Task { await Self.readAll(ProviderHTTPClient.defaultConnectionsPerHost, holding) }
        // Every connection busy at the provider before the lookup asks for one.
        let busy = ContinuousClock.now
        while server.counts.inFlight < ProviderHTTPClient.defaultConnectionsPerHost && ContinuousClock.now - busy < .seconds(10) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let started = ContinuousClock.now
        let error = await providerError { try await client.lookup(KavenegarLookup(receptor: "09121234567", template: "verify", token: "1")) }
        let elapsed = ContinuousClock.now - started
        let held = await holders.value
        try await http.shutdown()
        await server.stop()
        let failure = try #require(error)
        #expect(failure.kind == .timeout)
        #expect(failure.code == "pool-busy", "\(failure)")
        #expect(failure.message.contains("not sent"), "\(failure.message)")
        #expect(!failure.outcomeUnknown, "it never left the process")
        #expect(failure.disposition == .retry(after: nil))
        #expect(elapsed > .milliseconds(700), "waited again after the first pool timeout (\(elapsed))")
        #expect(elapsed < .milliseconds(1500), "ended before the total limit (\(elapsed))")
        #expect(held.allSatisfy { $0 == nil }, "the calls holding the connections were answered")
        #expect(server.counts.served == ProviderHTTPClient.defaultConnectionsPerHost, "the lookup never reached the provider")
    }
}

/// A loopback HTTP/1.1 server that holds each request `hold` before answering it `200` with `answer`, keeping the
/// connection, and counts the requests it holds at once.
final class HoldingServer: Sendable {
    /// Requests held now, the most held at once, and all received.
    struct Counts: Sendable {
        var inFlight = 0
        var maxInFlight = 0
        var served = 0
    }

    let port: Int
    private let channel: any Channel
    private let counter: Counter

    var counts: Counts { counter.state.withLock { $0 } }

    private init(channel: any Channel, counter: Counter) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        self.counter = counter
    }

    static func start(hold: Duration, answer: String) async throws -> HoldingServer {
        let counter = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(HoldingHandler(hold: TimeAmount(hold), answer: answer, counter: counter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return HoldingServer(channel: channel, counter: counter)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// The counts a server's handlers share (a `Mutex` cannot be copied into each).
private final class Counter: Sendable {
    let state = Mutex(HoldingServer.Counts())
}

private final class HoldingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let hold: TimeAmount
    let answer: String
    let counter: Counter

    init(hold: TimeAmount, answer: String, counter: Counter) {
        self.hold = hold
        self.answer = answer
        self.counter = counter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        counter.state.withLock {
            $0.inFlight += 1
            $0.served += 1
            $0.maxInFlight = max($0.maxInFlight, $0.inFlight)
        }
        let channel = context.channel
        let counter = counter
        let body = ByteBuffer(string: answer)
        context.eventLoop.scheduleTask(in: hold) {
            counter.state.withLock { $0.inFlight -= 1 }
            var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", "\(body.readableBytes)")])
            headers.add(name: "connection", value: "keep-alive")
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        }
    }
}
