import CHoopoeOpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// One TLS session over a connected socket (OpenSSL's `SSL`), used the way the connection's thread uses a plain
/// socket: blocking reads and writes bounded by the socket's timeouts. Connection-thread only.
final class TLSSession {
    private let ssl: OpaquePointer
    /// Set after a fatal error: OpenSSL says not to send `close_notify` then.
    private var broken = false
    /// Set by the first application data read: the server took this session (a missing client certificate is
    /// refused before any reply, so a failure after one is not that).
    private var answered = false
    /// Whether this client sends a certificate (`cert=`): a session the server drops before answering was most
    /// likely refused for it.
    private let sendsCertificate: Bool

    /// Runs the handshake: sends SNI, verifies the server's chain and name (unless `insecure`).
    /// - Parameters:
    ///   - fd: the connected socket, its timeouts already set to the connect timeout.
    ///   - host: the host connected to; its name (or ``RedisTLS/serverName``) must be in the server's certificate.
    /// - Throws: `.tlsVerification` when the certificate is not trusted or names another host (retrying cannot
    ///   help), `.failed` for anything else (a reset mid-handshake, a timeout).
    init(fd: Int32, host: String?, context: TLSContext) throws(TransportFailure) {
        choopoe_ERR_clear_error()
        guard let ssl = choopoe_SSL_new(context.context) else { throw TransportFailure("TLS: " + TLSContext.openSSLError("out of memory")) }
        self.ssl = ssl
        sendsCertificate = context.settings.certificateFile != nil
        let name = context.settings.serverName ?? host
        if let name, !context.settings.insecure {
            if Self.isIPAddress(name) {
                _ = choopoe_X509_VERIFY_PARAM_set1_ip_asc(choopoe_SSL_get0_param(ssl), name)
            } else {
                _ = choopoe_SSL_set1_host(ssl, name)
            }
        }
        if let name, !Self.isIPAddress(name) { _ = choopoe_ssl_set_sni(ssl, name) }
        choopoe_SSL_set_fd(ssl, fd)
        let result = choopoe_SSL_connect(ssl)
        if result != 1 {
            let verification = choopoe_SSL_get_verify_result(ssl)
            if verification != X509_V_OK {
                let reason = String(cString: choopoe_X509_verify_cert_error_string(verification))
                choopoe_ERR_clear_error()
                if verification == X509_V_ERR_HOSTNAME_MISMATCH || verification == X509_V_ERR_IP_ADDRESS_MISMATCH {
                    // Trusted, but for another name: pointing at the CA (below) sent operators to the wrong file.
                    throw TransportFailure(
                        "TLS certificate verification failed: \(reason) (the server's certificate does not name \(name ?? "the server"): connect by a name it holds, or give that name with server_name=)",
                        kind: .tlsVerification)
                }
                throw TransportFailure("TLS certificate verification failed: \(reason) (\(Self.explain(verification, name: name, context: context)))", kind: .tlsVerification)
            }
            throw Self.askingForPlain(failure(result, during: "TLS handshake failed"))
        }
    }

    /// What a failed verification means for the operator, by OpenSSL's reason: only a chain that leads to no trusted CA
    /// names the CA file. An expired certificate the CA did sign said "not trusted by the CA in '…/ca.pem'", and sent
    /// operators to the wrong file.
    private static func explain(_ verification: Int, name: String?, context: TLSContext) -> String {
        let certificate = "the server's certificate for \(name ?? "the server")"
        if verification == X509_V_ERR_CERT_HAS_EXPIRED {
            return "\(certificate), or one in its chain, has expired: renew it on the server (or check this machine's clock)"
        }
        if verification == X509_V_ERR_CERT_NOT_YET_VALID {
            return "\(certificate), or one in its chain, is not valid yet: check this machine's clock and the server's"
        }
        if verification == X509_V_ERR_CERT_REVOKED { return "\(certificate) was revoked by its CA" }
        if verification == X509_V_ERR_INVALID_PURPOSE { return "\(certificate) is not one for a TLS server (its key usage)" }
        return "\(certificate) is not trusted by \(context.settings.caFile.map { "the CA in '\($0)'" } ?? "the system's CAs")"
    }

    /// The handshake's failure, saying what it most likely means when no TLS came back: a plain Redis (a `rediss://`
    /// URL at a `redis://` port) reads the ClientHello as an inline command and waits for its line end, or answers
    /// `-ERR`, which OpenSSL reads as a record of no known version. It said `cannot connect: timed out`, after the
    /// whole reconnect window, with nothing pointing at TLS.
    private static func askingForPlain(_ failure: TransportFailure) -> TransportFailure {
        let hint = "no TLS answer: does this port speak TLS? (redis:// for plain)"
        if failure.kind == .timedOut { return TransportFailure("TLS handshake timed out: \(hint)", kind: .timedOut) }
        let notTLS = ["wrong version number", "packet length too long", "record layer failure", "unknown protocol"]
        guard notTLS.contains(where: failure.reason.contains) else { return failure }
        return TransportFailure("\(failure.reason): \(hint)", kind: failure.kind)
    }

    deinit {
        choopoe_SSL_free(ssl)
    }

    /// Reads what has arrived (at least one byte), waiting up to the socket's read timeout.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportFailure) -> Int {
        choopoe_ERR_clear_error()
        let count = choopoe_SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if count > 0 {
            answered = true
            return Int(count)
        }
        throw failure(count, during: "TLS read failed")
    }

    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(TransportFailure) {
        var offset = 0
        while offset < bytes.count {
            choopoe_ERR_clear_error()
            let count = choopoe_SSL_write(ssl, bytes.baseAddress! + offset, Int32(clamping: bytes.count - offset))
            guard count > 0 else { throw failure(count, during: "TLS write failed") }
            offset += Int(count)
        }
    }

    /// Whether an idle session, whose socket polled readable, is still open. With TLS 1.3 the server sends session
    /// tickets after the handshake, so readable does not mean closed as it does for a plain socket: the pending
    /// records are read without blocking. Only TLS records (tickets, key updates) → still open; the server's
    /// `close_notify`, a closed socket or application data Redis never sends unasked → not clean.
    func idleIsClean(fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        var byte: UInt8 = 0
        while true {
            choopoe_ERR_clear_error()
            let count = choopoe_SSL_read(ssl, &byte, 1)
            if count > 0 { return false }
            let error = choopoe_SSL_get_error(ssl, count)
            choopoe_ERR_clear_error()
            if error == SSL_ERROR_WANT_READ { return true }  // only handshake records were pending
            return false
        }
    }

    /// Tells the server the session ends (best effort, never waits for its answer).
    func shutdown() {
        guard !broken else { return }
        choopoe_ERR_clear_error()
        _ = choopoe_SSL_shutdown(ssl)
        choopoe_ERR_clear_error()
    }

    /// The failure of an SSL call in words: a timeout (the socket's `EAGAIN`), the peer closing, or OpenSSL's reason.
    private func failure(_ result: Int32, during action: String) -> TransportFailure {
        let number = errno
        broken = true
        let error = choopoe_SSL_get_error(ssl, result)
        var failure = classify(error, result: result, errno: number, action: action)
        if choopoe_SSL_get_ex_data(ssl, 0) != nil, failure.kind != .timedOut, !answered || Self.refusesTheCertificate(failure.reason) {
            // The server asked for a client certificate and got none: with TLS 1.3 it says no only after the
            // handshake, as an alert or a reset on the first read. Only then: a server with `tls-auth-clients
            // optional` asks every client, and a session of such a server that answered and later dropped (CLIENT
            // KILL, a restart) was blamed on the certificate.
            failure = TransportFailure(
                failure.reason + " (the server asked for a client certificate and none is configured: set cert= and key=, or REDIS_TLS_CERT and REDIS_TLS_KEY)",
                kind: failure.kind)
        } else if sendsCertificate, failure.kind != .timedOut, !answered || Self.refusesTheCertificate(failure.reason) {
            // With TLS 1.3 the server checks the client's certificate after the client's handshake ended: a certificate
            // it does not trust (another CA's, an expired one) surfaces as a reset or an alert on the first write or
            // read, "Connection reset by peer" and nothing more.
            failure = TransportFailure(
                failure.reason + " (the server may have refused this client certificate: is it signed by a CA the server trusts, its tls-ca-cert-file, and still valid?)",
                kind: failure.kind)
        }
        return failure
    }

    /// Whether OpenSSL's reason is the server's alert refusing the client's certificate: `certificate_required`
    /// (116, TLS 1.3), `bad_certificate` (42), `unknown_ca` (48), `certificate_expired` (45), `certificate_unknown` (46).
    private static func refusesTheCertificate(_ reason: String) -> Bool {
        ["alert certificate required", "alert bad certificate", "alert unknown ca", "alert certificate expired", "alert certificate unknown"]
            .contains { reason.contains($0) }
    }

    private func classify(_ error: Int32, result: Int32, errno number: Int32, action: String) -> TransportFailure {
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            choopoe_ERR_clear_error()
            return TransportFailure("timed out", kind: .timedOut)
        case SSL_ERROR_ZERO_RETURN:
            choopoe_ERR_clear_error()
            return TransportFailure("the server closed the TLS session", kind: .closed)
        case SSL_ERROR_SYSCALL:
            let queued = TLSContext.openSSLError("")
            if !queued.isEmpty { return TransportFailure("\(action): \(queued)") }
            if number == EAGAIN || number == EWOULDBLOCK { return TransportFailure("timed out", kind: .timedOut) }
            if result == 0 || number == 0 { return TransportFailure("\(action): connection closed", kind: .closed) }
            return TransportFailure("\(action): " + String(cString: strerror(number)), kind: .closed)
        default:
            return TransportFailure("\(action): " + TLSContext.openSSLError("error \(error)"))
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var buffer = in6_addr()
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }
}
