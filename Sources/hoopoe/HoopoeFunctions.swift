import HoopoeCore
import HoopoeJobs
import Logging
import Redis
import ServiceLifecycle

/// The function library this hoopoe loads: the scripts other services may call, and only those (jobs/README.md).
///
/// The engine's enqueue, and the domain's two synchronous answers: the free-credit limiter and the gift-wheel
/// limits. Composed here, where both the engine and the domain are known; every worker and scheduler keeps it
/// loaded (``HoopoeFunctions/service(redis:logger:)``), and `hoopoe functions load` loads it as a deploy step.
enum HoopoeFunctions {
    static let library = FunctionLibrary(scripts: FunctionLibrary.engineScripts + [FreeCreditLimiter.script, GiftWheel.script])

    /// Keeps ``library`` loaded on `redis` until graceful shutdown: at start, then every 15 s (a Redis restarted
    /// without persistence has forgotten it). Never fails the group: problems are logged.
    static func service(redis: RedisClient, logger: Logger) -> some Service {
        KeeperService(keeper: FunctionLibraryKeeper(loader: FunctionLibraryLoader(library: library, redis: redis), logger: logger))
    }

    /// Named by its ``description``: a `ServiceGroup` logs `"\(service)"` at debug when it starts and stops each
    /// service, and without one that was every field, the keeper's whole function library (26 KB of Lua a line).
    private struct KeeperService: Service, CustomStringConvertible {
        let keeper: FunctionLibraryKeeper

        var description: String { "HoopoeFunctions" }

        func run() async throws {
            await cancelWhenGracefulShutdown { [keeper] in await keeper.run() }
            // The keeper returns early only on a Redis without functions (6.2, or FUNCTION renamed away), where the
            // process goes on without it (decision 0022). A service that returns ends its group by default: the
            // worker and the scheduler exited 1 a second after starting there, and restarted forever.
            try? await gracefulShutdown()
        }
    }
}
