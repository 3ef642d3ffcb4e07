import Foundation

extension HealthCheck {
    /// `canary`: proof from end to end. Enqueues a `diag.record` job (a fresh member, its key
    /// ``HealthKeys/canary(_:)``) and polls `SISMEMBER` every 20 ms until a worker ran it or
    /// ``HealthCheckOptions/canaryTimeout`` passed. Its member is removed afterwards; a canary that timed out is
    /// cancelled so it does not linger in the queue (one already running is left to finish).
    func canary(_ processes: [ProcessRecord], paused: Set<String> = []) async throws -> HealthFinding {
        let queue = canaryQueue(processes, paused: paused)
        let member = JobID.make()
        let key = keys.canary(member)
        // One attempt: a retried canary would run long after this probe stopped waiting for it.
        let options = EnqueueOptions(queue: queue, maxAttempts: 1, timeout: self.options.canaryTimeout)
        // The keys expire a day after a run: one that comes after this probe gave up (and forgot its member) writes
        // them again, and nothing else would remove them.
        guard let id = try await jobs.enqueue(DiagRecordJob.Payload(key: key, member: member, ttlSeconds: 86_400), options: options).createdID else {
            return HealthFinding(name: "canary", status: .fail, message: "the canary job was refused on queue \(queue)")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + self.options.canaryTimeout
        var ran = false
        while !ran {
            ran = try await DiagStore(redis: jobs.redis).hasRun(key: key, member: member)
            if ran || clock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = (clock.now - start).milliseconds
        let timeoutSeconds = Self.seconds(self.options.canaryTimeout.seconds)
        var message: String
        if ran {
            message = "job \(id) ran on queue \(queue) in \(rounded2(elapsed)) ms"
        } else {
            // Not asked of a worker holding it: the probe has spent its time already.
            let cancelled = (try? await jobs.cancel(id: id, queue: queue, holderWait: .zero)) ?? .notFound
            message = "job \(id) on queue \(queue) did not run within \(timeoutSeconds)"
            switch cancelled {
            case .cancelled: message += "; cancelled"
            case .running, .held: message += "; a worker holds it now (running, or fetched to run next), left to finish"
            case .notFound: break
            }
        }
        await DiagStore(redis: jobs.redis).forget(key: key, member: member)
        return HealthFinding(name: "canary", status: ran ? .ok : .fail, message: message, numbers: ["run_ms": rounded2(elapsed)])
    }

    /// The first queue a live worker serves that is not paused (the named worker's, with
    /// ``HealthCheckOptions/workerID``), else the first it serves, else `default`: a canary on a queue nobody reads
    /// would prove nothing, and one on a paused queue (decision 0029) failed the check while the queue's own finding
    /// said it was fine.
    ///
    /// The workers that fetch (``ProcessRecord/fetches``) are asked first: in a rolling restart the old workers are quiet
    /// while the new ones run, and a canary on a queue only a quiet one lists waited out its timeout and failed the
    /// check. Only when none fetches are the quiet ones' queues taken (the canary then says that nothing ran it).
    func canaryQueue(_ processes: [ProcessRecord], paused: Set<String> = []) -> String {
        var workers = fresh(processes, kind: "worker")
        if let id = options.workerID { workers = workers.filter { $0.id == id } }
        let fetching = workers.filter(\.fetches)
        if !fetching.isEmpty { workers = fetching }
        let served = workers.sorted(by: { $0.id < $1.id }).flatMap { worker in
            (worker.fields["queues"] ?? "").split(separator: ",").map(String.init)
        }
        return served.first { !paused.contains($0) } ?? served.first ?? "default"
    }
}
