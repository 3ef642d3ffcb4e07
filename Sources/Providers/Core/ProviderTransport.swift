import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP request a client wants to make, described without AsyncHTTPClient types.
struct ProviderRequest: Sendable {
    /// HTTP method.
    var method: HTTPMethod
    /// Full URL, secrets included (it is only ever logged through the redactor).
    var url: String
    /// Headers in the order sent.
    var headers: [(String, String)]
    /// Body bytes, if any.
    var body: [UInt8]?
    /// Operation name for logs and errors, e.g. `verify/lookup`.
    var operation: String
    /// False for calls without a dedupe key: a failure after sending leaves the outcome unknown.
    var idempotent: Bool
    /// Extra secrets that appear in this request only (e.g. a Brevo child auth key in the path).
    var extraSecrets: [String] = []
    /// Attempt cap to attach to transport failures (e.g. 2 for `verify/lookup`).
    var transportAttemptCap: Int? = nil
    /// Masked, secret-free metadata to add to the log lines (e.g. a masked receptor).
    var logMetadata: Logger.Metadata = [:]
}

/// The response to a ``ProviderRequest``: status, headers and the whole body.
struct ProviderResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// Sends provider requests over the process's shared ``ProviderHTTPClient`` (made at the first request), enforces the
/// connect and total timeouts, logs redacted lines, and turns transport failures into ``ProviderError``s with
/// disposition `retry` (docs/providers.md §1 rule 2).
struct ProviderTransport: Sendable {
    /// Largest body read from a provider; their documented responses are a few kilobytes.
    static let maximumBodySize = 4 << 20

    let provider: ProviderName
    let http: ProviderHTTPClient
    let logger: Logger
    /// The deadline of the whole call, from before the connection to the last byte of the answer's body.
    let totalTimeout: Duration
    let redactor: Redactor
    /// The client's own connect limit (``ProviderTimeouts/connect``); nil: the shared client's default.
    var connectTimeout: Duration? = nil

    /// Sends the request and returns whatever status came back; only transport failures throw.
    func send(_ request: ProviderRequest) async throws(ProviderError) -> ProviderResponse {
        let redactor = self.redactor.adding(request.extraSecrets)
        let redactedURL = redactor.redact(request.url)
        var metadata = request.logMetadata
        metadata["provider"] = "\(provider)"
        metadata["operation"] = "\(request.operation)"
        metadata["url"] = "\(redactedURL)"
        logger.debug("provider request", metadata: metadata.merging(["method": "\(request.method.rawValue)"]) { $1 })

        var httpRequest = HTTPClientRequest(url: request.url)
        httpRequest.method = request.method
        for (name, value) in request.headers {
            httpRequest.headers.add(name: name, value: value)
        }
        if let body = request.body {
            httpRequest.body = .bytes(ByteBuffer(bytes: body))
        }
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let client = try http.client(connectTimeout: connectTimeout)
            // AsyncHTTPClient's deadline ends with the response head; the body is read against the same instant.
            let deadline = NIODeadline.now() + TimeAmount(totalTimeout)
            let response = try await Self.execute(
                httpRequest, on: client, deadline: deadline, end: started + totalTimeout, poolWait: http.connectLimit(connectTimeout))
            let body = try await Self.collect(response.body, upTo: Self.maximumBodySize, by: started + totalTimeout)
            let status = Int(response.status.code)
            metadata["status"] = "\(status)"
            metadata["elapsed"] = "\(Self.loggedSeconds(clock.now - started))"
            logger.debug("provider response", metadata: metadata)
            return ProviderResponse(status: status, headers: response.headers, body: Array(buffer: body))
        } catch {
            let (kind, code) = Self.classify(error)
            let message = redactor.redact(Self.describe(error))
            metadata["error"] = "\(code): \(message)"
            metadata["elapsed"] = "\(Self.loggedSeconds(clock.now - started))"
            logger.warning("provider transport failure", metadata: metadata)
            throw ProviderError(
                provider: provider,
                operation: request.operation,
                kind: kind,
                code: code,
                message: message,
                disposition: .retry(after: nil),
                outcomeUnknown: !request.idempotent && !Self.failedBeforeSending(error),
                httpStatus: nil,
                redactedURL: redactedURL,
                suggestedMaxAttempts: request.transportAttemptCap
            )
        }
    }

    /// `client.execute`, sent again while the pool's wait for a connection runs out and the call's total limit
    /// leaves room for another whole wait (`poolWait`, the client's connect limit; nil: a caller's own client, never
    /// again).
    ///
    /// AsyncHTTPClient (1.37) bounds a request's wait for a pooled connection by the connect limit, and fails it with
    /// `getConnectionFromPoolTimeout` when the host's connections stayed busy with other requests and no new one came
    /// up in time (had none ever connected, or a connect failed, it reports that instead). The provider answers on
    /// those connections: the request never left, and failing it as a timeout at the connect limit made a busy pool
    /// look like a provider down (a failed attempt, the next provider tried). So the request waits again, as long as
    /// that wait would end before the total limit: a last pool timeout still comes before it, as a failure before
    /// sending (`pool-busy`), never as the deadline's "outcome unknown".
    static func execute(
        _ request: HTTPClientRequest, on client: HTTPClient, deadline: NIODeadline, end: ContinuousClock.Instant, poolWait: Duration?
    ) async throws -> HTTPClientResponse {
        while true {
            do {
                return try await client.execute(request, deadline: deadline, logger: silentHTTPLogger)
            } catch let error as HTTPClientError where error == .getConnectionFromPoolTimeout {
                guard let poolWait, ContinuousClock.now + poolWait < end else { throw error }
            }
        }
    }

    /// The error as logged and carried in ``ProviderError/message``: AsyncHTTPClient's text, with what a pool
    /// timeout means, since its name reads like the provider's fault.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError, error == .getConnectionFromPoolTimeout {
            return "\(error): every connection of this process to the provider stayed busy with other requests until the call's limit; this request was not sent"
        }
        return String(describing: error)
    }

    /// The whole body, read by `deadline`; past it, `HTTPClientError.deadlineExceeded`, the error AsyncHTTPClient
    /// throws when the head does not come in time.
    ///
    /// AsyncHTTPClient's deadline covers the request only until the response head arrives; after that, reading the
    /// body has no limit at all. A server that sends its head and then one byte every few seconds held a send past the
    /// job's own timeout, so the job was cancelled and the next provider never tried. The same error as a late head
    /// keeps the same meaning: the request went (its answer began), so the outcome is unknown for a call without a
    /// dedupe key, and the job moves on as for any timeout. Reading stops at the deadline: the read is cancelled,
    /// and AsyncHTTPClient closes the connection.
    static func collect(
        _ body: HTTPClientResponse.Body, upTo limit: Int, by deadline: ContinuousClock.Instant
    ) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await body.collect(upTo: limit) }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil  // the deadline came first
            }
            defer { group.cancelAll() }
            guard case .some(.some(let buffer)) = try await group.next() else { throw HTTPClientError.deadlineExceeded }
            return buffer
        }
    }

    /// A duration as seconds to the millisecond, `119.993s` (the worker's `duration` format): the full `Duration`
    /// printed up to 18 decimals (`119.992684...999 seconds`), and the log's phone mask took a long fraction for a
    /// number.
    static func loggedSeconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = max(0, seconds * 1000 + (attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000)
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s"
    }

    /// The logger handed to AsyncHTTPClient: it logs nothing, at any level.
    ///
    /// AsyncHTTPClient logs each request's URL, headers and, at `trace`, the response bytes in hex through the
    /// logger it is given. Kavenegar's key is in its URL path, Brevo's in a header, and Brevo's create-child answer
    /// carries the child's API key: hex slips past every redactor and phone mask. The lines that matter (request,
    /// response, failure) are written by ``send(_:)`` itself, redacted; the client's own lines are never needed.
    static let silentHTTPLogger = Logger(label: "hoopoe.providers.http") { _ in SwiftLogNoOpLogHandler() }

    /// Redacts text with this transport's secrets plus the request-specific `extra` ones.
    func redact(_ text: String, extra: [String] = []) -> String {
        extra.isEmpty ? redactor.redact(text) : redactor.adding(extra).redact(text)
    }

    /// Whether the request failed before a connection for it existed, so nothing of it was sent: the name did not
    /// resolve, every address refused or timed out (`NIOConnectionError`, an `IOError` refusing the connect, or the
    /// pool's last connect failure when the deadline came while the request waited for a connection), the connect,
    /// TLS or proxy handshake timed out, or the TLS handshake failed (an expired or untrusted certificate, a name that
    /// does not match, an intercepting proxy: the request is written only after it). A TLS failure after the handshake
    /// (`uncleanShutdown`, a failed shutdown) may come after the request went, and is not one of these.
    /// Such a send did not happen, whatever the call: the next provider may take the message at once (docs/providers.md
    /// §1 rule 2). A failure on a connection that existed (a reset, a read timeout, the deadline while waiting for the
    /// answer) may come after the provider acted on it, and stays "outcome unknown" for a call without a dedupe key.
    static func failedBeforeSending(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError {
            return [.connectTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout]
                .contains(error)
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        // A connect to an address, not a name, fails with the socket's own error, refused or unreachable.
        if let error = error as? IOError { return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ENETDOWN, EADDRNOTAVAIL].contains(error.errnoCode) }
        if let error = error as? NIOSSLError {
            switch error {
            case .handshakeFailed, .unableToValidateCertificate, .noCertificateToValidate, .cannotMatchULabel: return true
            default: return false
            }
        }
        // Hostname validation and SNI problems: found before the first byte of the request (not `noForwardProgress`,
        // which a write may raise after bytes went).
        if let error = error as? NIOSSLExtraError {
            return [.failedToValidateHostname, .serverHostnameImpossibleToMatch, .cannotUseIPAddressInSNI, .invalidSNIHostname].contains(error)
        }
        return error is NIOConnectionError
    }

    /// Maps an AsyncHTTPClient / NIO error to a kind and a short code.
    static func classify(_ error: any Error) -> (ProviderError.Kind, String) {
        if let error = error as? HTTPClientError {
            switch error {
            case .getConnectionFromPoolTimeout:
                // Our own pool was full, not the provider unreachable (``execute(_:on:deadline:end:poolWait:)``).
                return (.timeout, "pool-busy")
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                .socksHandshakeTimeout, .httpProxyHandshakeTimeout:
                return (.timeout, "timeout")
            default:
                return (.transport, "transport")
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return (.timeout, "timeout")
        }
        if error is IOError || "\(type(of: error))".contains("Connection") || error is ChannelError {
            return (.connectionFailed, "connection-failed")
        }
        return (.transport, "transport")
    }
}
