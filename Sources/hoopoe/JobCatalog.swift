import Foundation
import Providers
import HoopoeCore
import HoopoeJobs
import Logging

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

    /// Every type with its handler, for commands that only look at jobs (`enqueue`'s checks, `job show`'s
    /// redaction) and never run one: the domain services get default settings, not this process's environment,
    /// so a command works whatever the worker's configuration is, and no provider is ever called. Only
    /// `SMS_TEMPLATES_FILE` is read, as the worker reads it; when that file (by default `jobs/sms_templates.yaml`,
    /// relative to the working directory) cannot be read, the domain types are still known, with no templates, so a
    /// command run from another directory neither refuses an `sms.send` as an unknown type nor prints it unredacted.
    static func inspectionRegistry(jobs: JobQueue) -> JobRegistry {
        var environment: [String: String] = [:]
        environment["SMS_TEMPLATES_FILE"] = ProcessInfo.processInfo.environment["SMS_TEMPLATES_FILE"]
        let settings = (try? DomainSettings(environment: EnvironmentReader(environment))) ?? DomainSettings()
        let services = DomainJobs.services(
            settings: settings, jobs: jobs, httpClient: ProviderHTTPClient(), logger: Logger(label: "hoopoe.inspection") { _ in SwiftLogNoOpLogHandler() })
        return registry(domain: services)
    }

    /// The queue of each job type that does not go on `default`: jobs/PROTOCOL.md's "Which queue", the clients'
    /// `QUEUES` tables and the type pages' `Queue:` line (a test holds them to this one). `hoopoe enqueue` sends a type
    /// there unless `--queue` says otherwise.
    static let queues: [String: String] = ["freecredit.request": "critical"]

    /// The queue a job of `type` goes to when its enqueuer names none: its entry in ``queues``, else `default`.
    static func queue(for type: String) -> String { queues[type] ?? "default" }

    /// ``queues`` in words for `--help`: "`critical` for freecredit.request".
    static var queueList: String {
        queues.sorted { $0.key < $1.key }.map { "`\($0.value)` for \($0.key)" }.joined(separator: ", ")
    }

    /// The redaction rule of every job type (``PayloadRedaction``), for whatever prints a payload.
    static func redaction(jobs: JobQueue) -> PayloadRedaction {
        PayloadRedaction(registry: inspectionRegistry(jobs: jobs))
    }
}
