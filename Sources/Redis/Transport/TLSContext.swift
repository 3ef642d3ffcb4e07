import Foundation
import CHoopoeOpenSSL

/// OpenSSL's `SSL_CTX` for one ``RedisTLS``: the trust (the CA file, else the system store), the client
/// certificate, TLS 1.2 at least. Made once per connection object and kept, so reconnects reuse it.
/// Connection-thread only.
final class TLSContext {
    let context: OpaquePointer
    let settings: RedisTLS

    /// - Throws: OpenSSL missing from the system, or a file OpenSSL cannot load (a CA, certificate or key), named
    ///   with OpenSSL's reason.
    init(_ settings: RedisTLS) throws(TransportFailure) {
        if let failure = Self.loadFailure { throw failure }
        guard let context = choopoe_SSL_CTX_new(choopoe_TLS_client_method()) else { throw TransportFailure("TLS: " + TLSContext.openSSLError("cannot create a context")) }
        self.context = context
        self.settings = settings
        _ = choopoe_ctx_set_min_tls12(context)
        _ = choopoe_ctx_set_modes(context)
        if settings.insecure {
            choopoe_SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        } else {
            choopoe_SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        }
        if let caFile = settings.caFile {
            guard choopoe_SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw TransportFailure("TLS: cannot load the CA file '\(caFile)': " + TLSContext.openSSLError("not PEM certificates"))
            }
        } else if choopoe_SSL_CTX_set_default_verify_paths(context) != 1 {
            throw TransportFailure("TLS: cannot load the system's trusted CAs: " + TLSContext.openSSLError("unknown reason"))
        }
        if settings.certificateFile == nil {
            // Called when the server asks for a client certificate and none is set: remember it (app data), so a
            // refusal that follows can say what is missing. Returning 0 sends none.
            choopoe_SSL_CTX_set_client_cert_cb(context) { ssl, _, _ in
                _ = choopoe_SSL_set_ex_data(ssl, 0, UnsafeMutableRawPointer(bitPattern: 1))
                return 0
            }
        }
        if let certificate = settings.certificateFile, let key = settings.keyFile {
            guard choopoe_SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw TransportFailure("TLS: cannot load the client certificate '\(certificate)': " + TLSContext.openSSLError("not a PEM certificate"))
            }
            choopoe_ctx_refuse_passphrase(context)
            guard choopoe_SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1, choopoe_SSL_CTX_check_private_key(context) == 1 else {
                let reason = TLSContext.openSSLError("not the certificate's PEM key")
                if Self.isEncrypted(keyFile: key) {
                    throw TransportFailure(
                        "TLS: cannot use the client key '\(key)': it is encrypted, and a passphrase is not supported: decrypt it (openssl pkey -in KEY -out PLAIN), kept readable by this user only")
                }
                throw TransportFailure("TLS: cannot use the client key '\(key)': " + reason)
            }
        }
    }

    deinit {
        choopoe_SSL_CTX_free(context)
    }

    /// Whether a PEM key file is encrypted (PKCS#8 `ENCRYPTED PRIVATE KEY`, or a traditional key's `Proc-Type: 4,ENCRYPTED`).
    static func isEncrypted(keyFile: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: keyFile) else { return false }
        let text = String(decoding: data.prefix(4096), as: UTF8.self)
        return text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED")
    }

    /// OpenSSL loaded (`dlopen`) and set up once, at the first TLS context of the process, not at start: a process
    /// that never connects with TLS never maps libssl and libcrypto (decision 0035). Nil once loaded; the reason when
    /// the system has no usable OpenSSL, given to every TLS connection attempt.
    static let loadFailure: TransportFailure? =
        choopoe_openssl_load() == 1 ? nil : TransportFailure("TLS: cannot load OpenSSL: " + String(cString: choopoe_openssl_load_error()))

    /// OpenSSL's queued errors of this thread, oldest first, in words; the queue is emptied.
    static func openSSLError(_ fallback: String) -> String {
        var reasons: [String] = []
        while true {
            let code = choopoe_ERR_get_error()
            if code == 0 { break }
            if let reason = choopoe_ERR_reason_error_string(code) { reasons.append(String(cString: reason)) }
        }
        return reasons.isEmpty ? fallback : reasons.joined(separator: "; ")
    }
}
