import Foundation
import HoopoeJSON

extension ScheduledTask {
    /// The payload of the job a tick of this task enqueues: the file's payload, every ``ScheduleFile/namespaceToken`` in
    /// its strings replaced by `namespace`, and `tick` (Unix seconds of the tick's time) added.
    ///
    /// One place for the scheduler's ticks, the dashboard's "enqueue now" and the start-up type check: written in each,
    /// the dashboard's copy missed the namespace token and wrote the canary's literal `${HOOPOE_NAMESPACE}:…` key.
    public func jobPayload(namespace: String, tick: Int64) -> JSONValue {
        var members: [String: JSONValue] = [:]
        if case .object(let given) = Self.expandingNamespace(payload, namespace) { members = given }
        members[ScheduleFile.tickPayloadKey] = .integer(tick)
        return .object(members)
    }

    /// `payload` with every ``ScheduleFile/namespaceToken`` in its strings replaced by `namespace`: a task that names a
    /// Redis key (the shipped scheduler canary's `diag.record`) stays inside `HOOPOE_NAMESPACE`, where an ACL limited
    /// to it (docs/operating.md) lets it write. A fixed `hoopoe:diag:scheduler` failed every minute under namespace
    /// `acme`, 1,440 jobs a day to the dead set.
    static func expandingNamespace(_ payload: JSONValue, _ namespace: String) -> JSONValue {
        switch payload {
        case .string(let text) where text.contains(ScheduleFile.namespaceToken):
            return .string(text.replacingOccurrences(of: ScheduleFile.namespaceToken, with: namespace))
        case .object(let members): return .object(members.mapValues { expandingNamespace($0, namespace) })
        case .array(let elements): return .array(elements.map { expandingNamespace($0, namespace) })
        default: return payload
        }
    }
}
