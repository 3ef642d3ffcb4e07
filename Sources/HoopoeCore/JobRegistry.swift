import Foundation
import HoopoeJSON

/// The job types a worker can run, by name.
///
/// Handlers register with their typed payload; the registry erases the type so the worker can look a
/// handler up by the envelope's `type` string and decode the payload for it.
public struct JobRegistry: Sendable {
    /// One registered type, erased.
    ///
    /// A class: every job looks its entry up and keeps it while it runs (its attempt holds it), and a struct of two
    /// strings, a set and two closures was copied field by field each time, ~six retains and releases a copy.
    final class Entry: Sendable {
        let type: String
        let payloadTypeName: String
        let maxAttempts: Int
        let timeout: Duration
        let retryPolicy: RetryPolicy
        /// Payload keys stripped from the dead-set copy (``JobHandler/redactedPayloadKeys``).
        let redactedPayloadKeys: Set<String>
        /// Payload paths named like secrets that hold none (``JobHandler/payloadPathsNamedLikeSecrets``).
        let payloadPathsNamedLikeSecrets: Set<String>
        /// Decodes the payload from the envelope bytes and runs the handler. Throws
        /// ``PayloadDecodingError`` when the payload does not fit the handler's type. `payload`, when
        /// known, is where the payload value lies in `envelope`: only those bytes are decoded.
        let run: @Sendable (_ envelope: [UInt8], _ payload: Range<Int>?, _ context: JobContext) async throws -> Void
        /// Decodes a payload (its JSON bytes) into the handler's type, as `run` will: nil when it fits, else why not.
        let check: @Sendable (_ payload: [UInt8]) -> String?
        /// Decodes the payload as `run` does and tells the handler the engine buried the job unrun
        /// (``JobHandler/buried(_:reason:context:)``); throws ``PayloadDecodingError`` when the payload does not fit.
        let buried: @Sendable (_ envelope: [UInt8], _ payload: Range<Int>?, _ reason: String, _ context: JobContext) async throws -> Void

        init(
            type: String, payloadTypeName: String, maxAttempts: Int, timeout: Duration, retryPolicy: RetryPolicy, redactedPayloadKeys: Set<String>,
            payloadPathsNamedLikeSecrets: Set<String>,
            run: @escaping @Sendable (_ envelope: [UInt8], _ payload: Range<Int>?, _ context: JobContext) async throws -> Void,
            check: @escaping @Sendable (_ payload: [UInt8]) -> String?,
            buried: @escaping @Sendable (_ envelope: [UInt8], _ payload: Range<Int>?, _ reason: String, _ context: JobContext) async throws -> Void
        ) {
            self.type = type
            self.payloadTypeName = payloadTypeName
            self.maxAttempts = maxAttempts
            self.timeout = timeout
            self.retryPolicy = retryPolicy
            self.redactedPayloadKeys = redactedPayloadKeys
            self.payloadPathsNamedLikeSecrets = payloadPathsNamedLikeSecrets
            self.run = run
            self.check = check
            self.buried = buried
        }
    }

    private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// Adds a handler; a second handler for the same type replaces the first.
    public mutating func register<H: JobHandler>(_ handler: H) {
        entries[H.type] = Entry(
            type: H.type, payloadTypeName: String(describing: H.Payload.self), maxAttempts: handler.maxAttempts,
            timeout: handler.timeout, retryPolicy: handler.retryPolicy, redactedPayloadKeys: handler.redactedPayloadKeys,
            payloadPathsNamedLikeSecrets: handler.payloadPathsNamedLikeSecrets,
            run: { bytes, range, context in
                let payload: H.Payload
                do {
                    guard let range else { throw PlainPayloadDecoder.Declined() }
                    payload = try PlainPayloadDecoder.value(H.Payload.self, from: bytes, range: range)  // the usual payload: no JSONDecoder
                } catch {
                    payload = try Self.decodedByJSONDecoder(H.self, bytes, range)
                }
                try await handler.run(payload, context: context)
            },
            check: { bytes in
                if JSONNumberLength.hasOverlongNumber(bytes) { return "payload: \(JSONNumberLength.Overlong())" }
                do {
                    _ = try JSONDecoder().decode(H.Payload.self, from: Data(bytes))
                    return nil
                } catch let error as DecodingError {
                    return PayloadDecodingError(
                        type: H.type, payloadType: String(describing: H.Payload.self), error: error, text: bytes,
                        refused: { text in DecodingProblem.failsOpaquely { _ = try JSONDecoder().decode(H.Payload.self, from: Data(text)) } }
                    ).description
                } catch {
                    return "\(error)"
                }
            },
            buried: { bytes, range, reason, context in
                try await handler.buried(try Self.payload(H.self, bytes, range), reason: reason, context: context)
            })
    }

    /// The payload of `bytes` (an envelope; `range`, when known, where its payload lies) decoded as `run` decodes it,
    /// for the rare paths besides a run (``Entry/buried``).
    private static func payload<H: JobHandler>(_ handler: H.Type, _ bytes: [UInt8], _ range: Range<Int>?) throws -> H.Payload {
        if let range, let payload = try? PlainPayloadDecoder.value(H.Payload.self, from: bytes, range: range) { return payload }
        return try decodedByJSONDecoder(H.self, bytes, range)
    }

    /// A payload `PlainPayloadDecoder` declined, decoded by `JSONDecoder`: the payload's bytes, else the whole envelope
    /// (the verdict, and an error's path "in payload", as they always were). A function of its own, so the job's usual
    /// path does not ask the runtime for the metadata of the types only this one uses (`PayloadOnly<P>`, `P?`).
    @inline(never)
    private static func decodedByJSONDecoder<H: JobHandler>(_ handler: H.Type, _ bytes: [UInt8], _ range: Range<Int>?) throws -> H.Payload {
        // The worker's readers refuse such an envelope before a handler is chosen; kept here too, as the decoder traps.
        if JSONNumberLength.hasOverlongNumber(bytes) { throw JSONNumberLength.Overlong() }
        do {
            if let range, let decoded = try? JSONDecoder().decode(H.Payload.self, from: Data(bytes[range])) { return decoded }
            return try JSONDecoder().decode(PayloadOnly<H.Payload>.self, from: Data(bytes)).payload
        } catch let error as DecodingError {
            throw PayloadDecodingError(
                type: H.type, payloadType: String(describing: H.Payload.self), error: error, text: bytes,
                refused: { text in DecodingProblem.failsOpaquely { _ = try JSONDecoder().decode(PayloadOnly<H.Payload>.self, from: Data(text)) } })
        }
    }

    /// Why `payload` (JSON bytes) does not fit `type`'s handler, naming the field (`payload.email should be a
    /// string`), or nil when it fits or the type is unknown. The check `hoopoe enqueue` makes before enqueueing:
    /// the same decoding the worker does, so a refused payload is one the worker would have sent to the dead set.
    public func payloadProblem(type: String, payload: [UInt8]) -> String? {
        entries[type]?.check(payload) ?? nil
    }

    /// The registered type names, sorted.
    public var types: [String] { entries.keys.sorted() }

    subscript(type: String) -> Entry? { entries[type] }
}

/// Only the `payload` member of an envelope, decoded into the handler's type.
private struct PayloadOnly<P: Decodable>: Decodable {
    let payload: P
}
