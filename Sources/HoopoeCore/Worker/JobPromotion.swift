/// Moves due delayed jobs and retries of this worker's queues from their scheduled sets to their streams. Every
/// worker runs it; the store's script promotes each job once however many run at the same moment. Each round also
/// tells ``ClockLead`` how Redis's clock compares with this worker's, queue by queue.
struct JobPromotion: BackgroundStep {
    var name: String { "promotion" }
    let store: JobStore
    let queues: [String]
    let interval: Duration
    let clockLead: ClockLead

    /// Wide, so that the promoters of many workers take turns instead of scanning at the same moment.
    var jitter: Double { 0.5 }

    func round() async throws {
        try await forEachQueue(queues) { queue in
            if let clocks = try await store.promote(queue: queue) {
                clockLead.record(queue: queue, redisTime: clocks.redis, localAfter: clocks.localAfter)
            }
        }
    }
}
