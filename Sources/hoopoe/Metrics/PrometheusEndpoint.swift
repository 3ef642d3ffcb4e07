import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// The `/metrics` endpoint in Prometheus text format, off unless `--metrics-port` is given.
///
/// Every metric is registered straight in ``registry`` with its help text (``JobMetrics``, ``QueueGauges``), so the
/// output has a `# HELP` and a `# TYPE` line for each. (Not through swift-metrics: its factory registers without help
/// text.) Before each scrape is written out, `beforeScrape` runs: the queue gauges are read from Redis then.
enum PrometheusEndpoint {
    static let registry = PrometheusCollectorRegistry()

    /// A service serving `GET /metrics` on `host:port`.
    static func service(host: String = "0.0.0.0", port: Int, logger: Logger, beforeScrape: @escaping @Sendable () async -> Void) -> some Service {
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
        router.get("/health") { _, _ in "ok\n" }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }
}
