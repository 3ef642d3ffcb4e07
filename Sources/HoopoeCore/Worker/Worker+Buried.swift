import Logging
import Synchronization

extension Worker {
    /// Tells the handler of a job this worker has just put in the dead set where no run of it concluded
    /// (``JobHandler/buried(_:reason:context:)``): the poison-pill rule's burial (`killed its worker 2 times`), a job
    /// whose lost or cut-off runs used up its `max_attempts`, and a last attempt cut off by its timeout, which no run of
    /// the handler ever hears of. Called only once the burial went through (``bury(_:envelope:attempt:reason:lastError:rawID:rawType:rawUniqueKey:seconds:)``
    /// returned true), so a job another worker took over, or whose move failed and that comes back after its lease, is
    /// not announced twice.
    ///
    /// Never throws and never holds the runner longer than the job's timeout (the envelope's, else the handler's): a
    /// hook still running then is cancelled and left to end by itself. A type this worker does not run, or a payload
    /// that does not decode, has no one to tell: skipped, logged. What the hook throws is logged, masked, and changes
    /// nothing. Run in the runner, not detached: a stopping worker waits for it as for a running job.
    func tellBuried(_ header: borrowing JobHeader, job: FetchedJob, attempt: Int, reason: String) async {
        guard let entry = registry[header.type] else { return }
        let context = JobContext(
            id: header.id, type: header.type, queue: header.queue, attempt: attempt, maxAttempts: header.maxAttempts ?? entry.maxAttempts,
            enqueuedAt: header.enqueuedAt, logger: logger, jobs: jobs)
        let limit = header.timeout.map { Duration.milliseconds(Int(($0 * 1000).rounded(.up))) } ?? entry.timeout
        let (bytes, payload) = (job.bytes, header.payload)
        let hook = Task { try await entry.buried(bytes, payload, reason, context) }
        let metadata: Logger.Metadata = ["job.id": "\(header.id)", "job.type": "\(header.type)", "queue": "\(header.queue)"]
        switch await Self.result(of: hook, within: limit) {
        case nil:
            hook.cancel()
            logger.error("the handler's burial hook did not finish within the job's timeout (\(limit)); cancelled", metadata: metadata)
        case .failure(let error as PayloadDecodingError)?:
            logger.warning("burial not told to the handler: \(PersonalDataMask.mask(error.description))", metadata: metadata)
        case .failure(let error)?:
            logger.error("the handler's burial hook failed: \(PersonalDataMask.mask("\(error)"))", metadata: metadata)
        case .success?:
            break
        }
    }

    /// `task`'s result, or nil when `limit` passed first (the task is left running: the caller cancels it). Not a task
    /// group: a group waits for its children, and a hook that ignores cancellation would hold the runner for good.
    static func result(of task: Task<Void, any Error>, within limit: Duration) async -> Result<Void, any Error>? {
        let once = ResumedOnce()
        return await withCheckedContinuation { continuation in
            let timer = Task {
                try? await Task.sleep(for: limit)
                if once.take() { continuation.resume(returning: nil) }
            }
            Task {
                let result = await task.result
                // The flag first: a timer cancelled before it was taken wakes at once and could take it, reading a hook
                // that finished as one that timed out.
                if once.take() {
                    timer.cancel()
                    continuation.resume(returning: result)
                }
            }
        }
    }
}

/// A flag taken once: whichever of two tasks takes it resumes the continuation they share.
private final class ResumedOnce: Sendable {
    private let taken = Mutex(false)

    func take() -> Bool {
        taken.withLock { taken in
            defer { taken = true }
            return !taken
        }
    }
}
