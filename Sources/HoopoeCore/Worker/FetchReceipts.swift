import Redis

/// What one fetch loop knows of the deliveries its fetches made: the last entry each queue's fetches received, and
/// whether a fetch failed after Redis may have run it, its reply lost on the way (decision 0099).
///
/// Such a fetch's entries are pending to this worker, which never heard of them: unheld, their lease lapsed and they
/// were recovered as a second delivery, so the run that never happened counted as an attempt (a job with
/// `max_attempts: 1` was buried as "worker lost"). Before its next fetch the loop takes them
/// (``JobStore/adoptUnreceived(queue:consumer:lastReceived:limit:)``): pending to this consumer, delivered once, newer
/// than the last entry received. Only a fetch delivers an entry for the first time, and each delivers entries newer
/// than any an earlier one did, so what its fetches received (a job whose acknowledgement failed, left to its lease)
/// is never among them.
struct FetchReceipts {
    /// Per queue, the id of the last entry a fetch of this loop received (a fetch's come in the stream's order).
    private var last: [String: String] = [:]
    /// A fetch failed after it may have reached Redis: its deliveries are to be looked for before the next.
    private(set) var mayHaveLostReply = false

    /// Records a fetch's jobs (grouped by queue, each queue's in the stream's order), or a lost reply's, taken since.
    mutating func received(_ fetched: [FetchedJob]) {
        guard var index = fetched.indices.last else { return }
        // A queue's last job, then skip back over the rest of its group (a fetch of one queue: one step).
        while index >= 0 {
            let queue = fetched[index].queue
            last[queue] = fetched[index].entryID
            while index >= 0 && fetched[index].queue == queue { index -= 1 }
        }
    }

    /// The id of the last entry of `queue` this loop received; nil before any.
    func lastReceived(_ queue: String) -> String? { last[queue] }

    /// Records a failed fetch (or look). Only a failure that wrote nothing (the connection could not be made) or that
    /// Redis refused (an error reply: nothing delivered) leaves no reply lost.
    mutating func failed(_ error: any Error) {
        if let error = error as? RedisError, [.connectionFailed, .server, .permissionDenied].contains(error.code) { return }
        mayHaveLostReply = true
    }

    /// The look for a lost reply's deliveries has been made.
    mutating func lookedForLostReply() { mayHaveLostReply = false }
}
