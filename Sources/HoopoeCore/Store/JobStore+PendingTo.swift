import Redis

extension JobStore {
    /// Which of `entryIDs` are pending to `consumer` in `queue`'s stream now: one `XPENDING` of everything pending to that
    /// consumer (a worker's own few hundred at most). For a rare path (an acknowledgement sent again after Redis was unreachable: decision 0098), not a
    /// job's: another worker may have taken an entry after its lease meanwhile, and it is that worker's to settle.
    func entriesPending(to consumer: String, queue: String, among entryIDs: [String]) async throws -> Set<String> {
        let wanted = Set(entryIDs)
        guard !wanted.isEmpty else { return [] }
        // Every entry pending to this consumer: what one worker holds (fetched, running, finished), not the stream's.
        let reply = try await redis.send("XPENDING", keys(queue).stream, QueueKeys.group, "-", "+", "1000000", consumer)
        var pending = Set<String>()
        for entry in reply.array ?? [] {
            if let id = entry.array?.first?.string, wanted.contains(id) { pending.insert(id) }
        }
        return pending
    }
}
