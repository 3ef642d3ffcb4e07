import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// The `/metrics` endpoint in Prometheus text format, off unless `--metrics-port` is given.
///
/// swift-metrics is bootstrapped with swift-prometheus's factory once per process, so every counter,
/// gauge and timer made anywhere (the worker's job outcomes, queue gauges) lands in one registry.
enum PrometheusEndpoint {
    static let registry = PrometheusCollectorRegistry()

    /// Bootstraps swift-metrics; call once, before any metric is made.
    static func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// A service serving `GET /metrics` on `host:port`.
    static func service(host: String = "0.0.0.0", port: Int, logger: Logger) -> some Service {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
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
