/// A job's input that names its job type, so the type is declared once: ``JobQueue/enqueue(_:options:)`` writes
/// it into the envelope, and a ``JobHandler`` whose `Payload` is this type takes its ``JobHandler/type`` from it.
///
/// ```swift
/// struct Welcome: JobPayload {
///     static let jobType = "email.welcome"
///     let userID: String
/// }
/// try await jobs.enqueue(Welcome(userID: "42"))
/// ```
public protocol JobPayload: Codable, Sendable {
    /// The job type, e.g. `sms.send`. Stored in Redis: never rename one in use.
    static var jobType: String { get }
}

extension JobPayload {
    /// This payload as JSON, as the envelope carries it (opens the existential of a mixed batch).
    func encodedJSON() throws -> [UInt8] { try JobEnvelope.encodePayload(self) }
}

extension JobHandler where Payload: JobPayload {
    /// The payload's ``JobPayload/jobType``: a handler of a typed payload does not name its type again.
    public static var type: String { Payload.jobType }
}
