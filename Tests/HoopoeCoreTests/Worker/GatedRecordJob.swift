import HoopoeCore
import TestSupport

/// `diag.record` held at a gate until its test opens it: a job that stays running exactly as long as the test needs.
/// A fixed sleep in the job (`sleep_ms`) is a race the test can lose when the loaded parallel phase wakes it late; the
/// gate is not. Cancellation (a timeout, a stop) does not end the wait: only `gate.open()` does.
struct GatedRecordJob: JobHandler {
    typealias Payload = DiagRecordJob.Payload
    static let type = "test.gated-record"
    let gate: TestGate

    func run(_ payload: Payload, context: JobContext) async throws {
        await gate.wait()
        try await DiagRecordJob().run(payload, context: context)
    }
}

extension JobRegistry {
    /// The diagnostic jobs and ``GatedRecordJob`` held at `gate`.
    static func diagnostic(gatedBy gate: TestGate) -> JobRegistry {
        var registry = JobRegistry.diagnostic
        registry.register(GatedRecordJob(gate: gate))
        return registry
    }
}
