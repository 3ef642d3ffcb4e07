import Logging
import Redis

/// Keeps the function library loaded while a worker or scheduler runs: checks at start, then every ``interval``.
///
/// Why a periodic check: a Redis restarted without persistence (or a failover to a replica that never had the
/// library, or a `FUNCTION FLUSH`) forgets every function, and services enqueueing with `FCALL` fail until someone
/// loads it again. The client has no reconnect hook to hang a reload on, and a check is one `FCALL_RO` with a
/// 40-byte answer, so every 15 s per process costs nothing and bounds such an outage to 15 s.
///
/// Two releases running at once (a rolling upgrade) replace each other's library at their checks: each load is
/// atomic and every release's functions keep the same keys, arguments and replies (a changed contract gets a new
/// function name), so a service's `FCALL` works against either. Once the old processes are gone, the next check of
/// a new one settles the library on the new version.
public struct FunctionLibraryKeeper: Sendable {
    public let loader: FunctionLibraryLoader
    public let logger: Logger
    public let interval: Duration

    public init(loader: FunctionLibraryLoader, logger: Logger, interval: Duration = .seconds(15)) {
        self.loader = loader
        self.logger = logger
        self.interval = interval
    }

    /// Checks and loads until the task is cancelled. Never throws: a failure is logged (once until it changes) and
    /// tried again at the next check. On a Redis without functions it warns once and stops checking.
    public func run() async {
        var lastProblem: String?
        while !Task.isCancelled {
            do {
                let outcome = try await loader.ensure()
                lastProblem = nil
                log(outcome)
            } catch let error as FunctionLibraryError {
                logger.warning("\(error)")
                return
            } catch {
                let problem = (error as? RedisError)?.operatorLine ?? "\(error)"
                if problem != lastProblem {
                    logger.warning("could not check or load the hoopoe function library (services' FCALL hoopoe_enqueue needs it); trying again every \(interval): \(problem)")
                }
                lastProblem = problem
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func log(_ outcome: FunctionLibraryLoader.Outcome) {
        let library = loader.library
        switch outcome {
        case .alreadyLoaded:
            logger.debug("the hoopoe function library \(library.shortVersion) is loaded")
        case .loaded(over: .absent):
            logger.info("loaded the hoopoe function library \(library.shortVersion): \(library.functionNames.joined(separator: ", "))")
        case .loaded(over: .other(let version)):
            logger.info("loaded the hoopoe function library \(library.shortVersion) over version \(version.prefix(8)) (another hoopoe release loads that one: the two replace each other while both run)")
        case .loaded(over: .current):
            break
        }
    }
}
