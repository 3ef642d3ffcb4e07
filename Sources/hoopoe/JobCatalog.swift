import HoopoeCore
import HoopoeJobs

/// Every job type this build of Hoopoe runs. The single registration point, so the worker and the
/// admin commands agree on which jobs exist.
enum JobCatalog {
    /// The diagnostic jobs and, given their services, the domain jobs (jobs/README.md).
    static func registry(domain: DomainServices?) -> JobRegistry {
        var registry = JobRegistry()
        registry.register(DiagRecordJob())
        registry.register(DiagIncrJob())
        if let domain { DomainJobs.register(into: &registry, services: domain) }
        return registry
    }
}
