import HoopoeCore

/// Every job type this build of Hoopoe runs. The single registration point, so the worker and the
/// admin commands agree on which jobs exist.
enum JobCatalog {
    static func registry() -> JobRegistry {
        var registry = JobRegistry()
        registry.register(DiagRecordJob())
        registry.register(DiagIncrJob())
        return registry
    }
}
