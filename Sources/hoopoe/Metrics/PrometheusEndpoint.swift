import Foundation
import HoopoeDashboard
import Hummingbird
import HummingbirdCore
import NIOCore
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization

/// The `/metrics` endpoint in Prometheus text format, off unless `--metrics-port` is given; and `/health`, which only
/// says the HTTP server answers (not a health check: that is `hoopoe health-check`).
///
/// Every metric is registered straight in ``registry`` with its help text (``JobMetrics``, ``QueueGauges``), so the
/// output has a `# HELP` and a `# TYPE` line for each. (Not through swift-metrics: its factory registers without help
/// text.) Before each scrape is written out, `beforeScrape` runs: the queue gauges are brought up to date then
/// (``QueueGauges/refresh()``: one Redis read at a time, shared by the scrapes of a second, waited for at most 2 s).
///
/// The port is bound on every address (a Prometheus in another pod scrapes it), so anyone who reaches it may hold
/// connections open: each half-sent request held a file descriptor for ever, and at the process's limit the worker
/// could open no Redis connection (no fetch, no heartbeat: its liveness probe then restarted it). So a connection that
/// sends no complete request within ``requestTimeout`` is closed, and at most ``maxConnections`` are accepted at once
/// (the rest wait in the kernel's backlog, holding none of this process's descriptors).
///
/// That limit is a whole-request deadline (the dashboard's ``RequestDeadline``), not only the server's idle timeout:
/// the idle timeout restarts at every part read, so 32 clients sending `GET /health` with a chunked body, a chunk every
/// few seconds, held every connection for ever and each Prometheus scrape timed out waiting in the backlog.
enum PrometheusEndpoint {
    static let registry = PrometheusCollectorRegistry()
    /// How long a request may take to arrive whole, head and body, from the connection's opening or its last response
    /// (a scrape sends its request at once); also how long a connection may sit idle between requests.
    static let requestTimeout = TimeAmount.seconds(10)
    /// Connections served at once: a few Prometheus servers and a curl need a handful.
    static let maxConnections = 32

    /// A service serving `GET /metrics` on `host:port`; `onBound` runs once the port is bound, with the port. A
    /// failure before that (the port taken) is thrown as ``PortUnavailable``, which names the flag and the port.
    static func service(
        host: String = "0.0.0.0", port: Int, logger: Logger, onBound: @escaping @Sendable (Int) async -> Void = { _ in },
        beforeScrape: @escaping @Sendable () async -> Void
    ) -> some Service {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            await beforeScrape()
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        // Answers whenever the HTTP server does, whatever Redis or the worker's jobs are doing: it says the port is
        // served, and is not a health check (README's Metrics says so; probes run `hoopoe health-check --liveness`).
        router.get("/health") { _, _ in "ok\n" }
        let bound = Bound()
        let application = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [RequestDeadline(limit: requestTimeout)], idleTimeout: requestTimeout)),
            configuration: .init(address: .hostname(host, port: port), availableConnectionsDelegate: MaximumAvailableConnections(maxConnections)),
            onServerRunning: { channel in
                bound.flag.store(true, ordering: .releasing)
                await onBound(channel.localAddress?.port ?? port)
            },
            logger: logger)
        return Endpoint(application: application, port: port, bound: bound)
    }

    /// The metrics port could not be served: another process holds it, or this one may not bind it. Thrown by the
    /// endpoint's service before it served anything; the worker stops with it (status 1, as the dashboard for its
    /// port). NIO's own error, `bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)`, named neither the
    /// port nor the flag.
    struct PortUnavailable: Error, CustomStringConvertible {
        let port: Int
        let underlying: any Error

        var description: String {
            if (underlying as? IOError)?.errnoCode == EADDRINUSE {
                return "--metrics-port \(port) is already in use (another process listens on it): choose another port, or stop that process"
            }
            return "cannot serve --metrics-port \(port): \(underlying)"
        }
    }

    /// Whether the server bound its port: a failure before it is the bind's.
    private final class Bound: Sendable {
        let flag = Atomic<Bool>(false)
    }

    /// The HTTP application, its failure to start told apart (``PortUnavailable``). Named by its ``description``, as
    /// the worker's services are (the group logs `"\(service)"`).
    private struct Endpoint<Inner: Service>: Service, CustomStringConvertible {
        let application: Inner
        let port: Int
        let bound: Bound

        var description: String { "PrometheusEndpoint(:\(port))" }

        func run() async throws {
            do {
                try await application.run()
            } catch {
                if bound.flag.load(ordering: .acquiring) || error is CancellationError { throw error }
                throw PortUnavailable(port: port, underlying: error)
            }
        }
    }
}
