/// The queues one fetch loop leaves out because their stream key holds another type than a stream
/// (``JobStore/WrongTypedStream``), until it is a stream again or gone.
///
/// Why: a worker fetches all its queues in one `XREADGROUP`, which Redis refuses whole when one key is of another type
/// (`WRONGTYPE`, naming no key): one stray `SET hoopoe:{q}:stream …` stopped every queue of every worker serving it,
/// and the log said only "fetch failed … WRONGTYPE" once a minute. Now only that queue stops, and the log names it and
/// its key. Its key is looked at again every ``recheck`` (one `TYPE` a queue left out); it is fetched again once the
/// key is a stream or deleted (the fetch then creates its group again: `NOGROUP`). While it stays wrong the log says so
/// again every ``RepeatedFailure/repeatAfter``. The state is only read on a fetch's way while some queue is left out.
struct WrongTypedStreams {
    /// How often the keys of the queues left out are looked at again.
    static let recheck: Duration = .seconds(5)

    /// The queues left out, by name: their key, what it held when last looked at, and when the log last said so.
    private(set) var left: [String: (found: JobStore.WrongTypedStream, said: ContinuousClock.Instant)] = [:]
    /// When the keys were last looked at.
    private(set) var checked = ContinuousClock.now

    /// Whether no queue is left out: the fetch's one look on its normal path.
    var isEmpty: Bool { left.isEmpty }

    /// `queues` without those left out, in their order.
    func serving(_ queues: [String]) -> [String] {
        queues.filter { left[$0] == nil }
    }

    /// Whether the keys are due to be looked at again.
    func due(now: ContinuousClock.Instant = .now) -> Bool {
        now - checked >= Self.recheck
    }

    /// Leaves `found` out (said now in the log).
    mutating func leaveOut(_ found: [JobStore.WrongTypedStream], now: ContinuousClock.Instant = .now) {
        for stream in found { left[stream.queue] = (stream, now) }
        checked = now
    }

    /// What a look at the left-out queues found (`still`: those whose key is still of another type, among `looked`):
    /// returns the queues to fetch again and those to say again in the log (a minute since the last line).
    mutating func looked(
        at looked: [String], still: [JobStore.WrongTypedStream], now: ContinuousClock.Instant = .now
    ) -> (back: [String], sayAgain: [JobStore.WrongTypedStream]) {
        checked = now
        let stillByQueue = Dictionary(still.map { ($0.queue, $0) }, uniquingKeysWith: { first, _ in first })
        var back: [String] = []
        var sayAgain: [JobStore.WrongTypedStream] = []
        for queue in looked {
            guard let entry = left[queue] else { continue }
            guard let found = stillByQueue[queue] else {
                left[queue] = nil
                back.append(queue)
                continue
            }
            if now - entry.said >= RepeatedFailure.repeatAfter {
                left[queue] = (found, now)
                sayAgain.append(found)
            } else {
                left[queue] = (found, entry.said)
            }
        }
        return (back, sayAgain)
    }
}
