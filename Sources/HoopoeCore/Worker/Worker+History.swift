import Foundation

/// The job history records this worker writes with each settle (``HistoryRecord``), in the same round trip.
extension Worker {
    /// The caps of the history this worker keeps; nil when it keeps none (`HOOPOE_HISTORY_MAX_JOBS=0`).
    var historyLimits: JobStore.HistoryLimits? {
        guard options.historyMaxJobs > 0 else { return nil }
        return JobStore.HistoryLimits(maxJobs: options.historyMaxJobs, maxAgeSeconds: Int(options.historyMaxAge.seconds))
    }

    /// The record of a job that ran and was acknowledged (processed, discarded, deferred); `entry` is its handler's.
    ///
    /// The envelope is kept as the worker read it — no decode on the hot path — unless its type carries secrets
    /// (then it is decoded and those keys removed, the one rule ``PayloadRedaction``) or it is over
    /// ``HistoryRecord/maxEnvelopeBytes`` (then its payload is not kept).
    func historyEntry(
        _ job: FetchedJob, _ header: JobHeader, entry: JobRegistry.Entry, outcome: HistoryRecord.Outcome, attempt: Int, seconds: Double?,
        error: String? = nil, deferredTo: String? = nil
    ) -> (record: [UInt8], limits: JobStore.HistoryLimits)? {
        guard let limits = historyLimits else { return nil }
        let envelope: [UInt8]
        if !redaction.carriesSecrets(entry) && job.bytes.count <= HistoryRecord.maxEnvelopeBytes {
            envelope = job.bytes
        } else if var decoded = header.envelope(job) {
            decoded.payload = redaction.stripped(decoded.payload, type: decoded.type)
            envelope = HistoryRecord.kept(decoded)
        } else {
            envelope = []
        }
        // Written from the members, without a `HistoryRecord` made for it (decision 0065).
        let record = HistoryRecord.text(
            id: header.id, type: header.type, queue: job.queue, outcome: outcome, attempt: attempt, finishedAt: Date().timeIntervalSince1970,
            duration: seconds, worker: options.consumer, error: error.map(PersonalDataMask.mask), deferredTo: deferredTo, envelopeJSON: envelope)
        return (record, limits)
    }

    /// The record of a job on its way to the dead set: `dead` is the dead-set copy (secret keys already removed).
    func historyEntry(dead: JobEnvelope, queue: String, seconds: Double?, now: Double) -> (record: [UInt8], limits: JobStore.HistoryLimits)? {
        guard let limits = historyLimits else { return nil }
        let record = HistoryRecord(
            id: dead.id, type: dead.type, queue: queue, outcome: .dead, attempt: dead.attempt, duration: seconds, worker: options.consumer,
            finishedAt: now, error: (dead.lastError ?? dead.deadReason).map(PersonalDataMask.mask))
        return (record.text(envelopeJSON: HistoryRecord.kept(dead)), limits)
    }
}
