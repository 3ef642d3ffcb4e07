/// TLS settings for connections to Redis (`rediss://`, `rediss-cluster://`, or `tls=true`).
///
/// The server is always verified unless ``insecure``: its certificate must chain to ``caFile`` (or, when nil, the
/// system's trust store) and name the host connected to (or ``serverName``), which is also sent as SNI.
public struct RedisTLS: Sendable, Hashable {
    /// PEM file of the CA(s) that sign the server's certificate (`ca=` or `REDIS_TLS_CA`); nil = the system store.
    public var caFile: String?
    /// PEM client certificate (`cert=` or `REDIS_TLS_CERT`), for servers with `tls-auth-clients yes`.
    public var certificateFile: String?
    /// PEM private key of ``certificateFile`` (`key=` or `REDIS_TLS_KEY`).
    public var keyFile: String?
    /// Skip verifying the server (`insecure=true`): encryption without knowing who is at the other end.
    public var insecure: Bool
    /// The name the server's certificate must carry and that is sent as SNI (`server_name=`); nil = the host
    /// connected to (for an IP address, its certificate must list that IP).
    public var serverName: String?

    /// - Parameters:
    ///   - caFile: CA bundle, or nil for the system store.
    ///   - certificateFile: client certificate, or nil.
    ///   - keyFile: its private key, or nil.
    ///   - insecure: skip server verification.
    ///   - serverName: the name to verify and send as SNI, or nil for the host.
    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, insecure: Bool = false, serverName: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.insecure = insecure
        self.serverName = serverName
    }
}
