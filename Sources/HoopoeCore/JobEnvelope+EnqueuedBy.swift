import HoopoeJSON

extension JobEnvelope {
    /// The wire name of ``enqueuedBy``.
    public static let enqueuedByField = "enqueued_by"

    /// The id of the job whose handler enqueued this one (``CurrentJob/id`` at the enqueue), for the dashboard's and
    /// `hoopoe job show`'s link to it; nil for a job enqueued from outside a job, or by a handler that does not set it.
    ///
    /// Kept among ``otherFields`` rather than as a stored field of its own: every rewrite of an envelope (a retry, a
    /// hand-back, the dead set and its retry, run now) writes those back as they came, so the link survives them all
    /// with no code on those paths; and it is only ever shown. A value that is not a string (written by hand) reads as
    /// nil and is kept as it came.
    public var enqueuedBy: String? {
        get { otherFields?[Self.enqueuedByField]?.stringValue }
        set {
            var others = otherFields ?? [:]
            others[Self.enqueuedByField] = newValue.map(JSONValue.string)
            otherFields = others.isEmpty ? nil : others
        }
    }
}
