import HoopoeCore
import HoopoeJobs

/// How much job history a worker keeps per queue (``HistoryRecord``), read from the environment like the domain
/// settings: a value that cannot be used stops `hoopoe worker` with exit 78 naming the variable.
struct HistorySettings {
    /// `HOOPOE_HISTORY_MAX_JOBS` (default 10000, 0 to 1000000; 0 keeps no history).
    var maxJobs: Int
    /// `HOOPOE_HISTORY_MAX_AGE` in seconds (default 86400, 60 to 31536000).
    var maxAgeSeconds: Int

    init(environment env: EnvironmentReader) throws(ConfigurationError) {
        maxJobs = try env.integer("HOOPOE_HISTORY_MAX_JOBS", default: 10_000, in: 0...1_000_000)
        maxAgeSeconds = try env.integer("HOOPOE_HISTORY_MAX_AGE", default: 86_400, in: 60...31_536_000)
    }

    /// Whether this deployment keeps job history, for a process that only cancels (`hoopoe job cancel`, the dashboard,
    /// the health check's canary): true unless `HOOPOE_HISTORY_MAX_JOBS` is 0 (an unusable value is the worker's to
    /// refuse, with exit 78).
    static var keepsHistory: Bool {
        ((try? HistorySettings(environment: EnvironmentReader()))?.maxJobs ?? 1) > 0
    }

    /// `options` with these limits.
    func applied(to options: WorkerOptions) -> WorkerOptions {
        var options = options
        options.historyMaxJobs = maxJobs
        options.historyMaxAge = .seconds(maxAgeSeconds)
        return options
    }
}
