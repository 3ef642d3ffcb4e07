#if canImport(Glibc)
import Glibc
#endif

extension RedisConfiguration {
    /// A setting that cannot be used, named as the operator wrote it (`REDIS_TLS_CA`, `ca= in the Redis URL`).
    public struct SettingError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The environment variable or URL option at fault.
        public let key: String
        /// What is wrong with it (never a password).
        public let message: String

        public var description: String { "\(key): \(message)" }
    }

    /// Adds what the environment says to what the URL said, then checks the files TLS needs.
    ///
    /// `REDIS_TLS_CA`, `REDIS_TLS_CERT` and `REDIS_TLS_KEY` fill the TLS files the URL did not name (the URL's
    /// `ca=`, `cert=`, `key=` win); they are an error when the URL does not use TLS, since TLS is not on merely
    /// because a CA is configured. `REDIS_WAIT_REPLICAS` and `REDIS_WAIT_TIMEOUT_MS` apply when the URL has no
    /// `wait_replicas=` / `wait_timeout_ms=`: an option spelled out in the URL wins, `wait_replicas=0` included (one
    /// process, e.g. a bulk import, can opt out of the fleet-wide setting by its URL).
    /// - Parameter value: the environment, an empty value counting as unset.
    /// - Throws: ``SettingError`` naming the variable or option: a bad number, TLS files without TLS, a file that
    ///   cannot be read, a certificate without its key.
    public mutating func applyEnvironment(_ value: (String) -> String?) throws(SettingError) {
        let files: [(variable: String, option: String, path: WritableKeyPath<RedisTLS, String?>)] = [
            ("REDIS_TLS_CA", "ca", \.caFile), ("REDIS_TLS_CERT", "cert", \.certificateFile), ("REDIS_TLS_KEY", "key", \.keyFile),
        ]
        var source: [String: String] = [:]
        for file in files {
            if tls?[keyPath: file.path] != nil { source[file.option] = "\(file.option)= in the Redis URL" }
            guard let path = value(file.variable) else { continue }
            guard var tls else {
                throw SettingError(key: file.variable, message: "is set, but the Redis URL does not use TLS (use rediss://, rediss-cluster:// or tls=true)")
            }
            if tls[keyPath: file.path] == nil {
                tls[keyPath: file.path] = path
                source[file.option] = file.variable
                self.tls = tls
                if case .sentinel(var settings) = topology, var sentinelTLS = settings.tls, sentinelTLS[keyPath: file.path] == nil {
                    sentinelTLS[keyPath: file.path] = path
                    settings.tls = sentinelTLS
                    topology = .sentinel(settings)
                }
            }
        }
        if let tls {
            if (tls.certificateFile == nil) != (tls.keyFile == nil) {
                let missing = tls.certificateFile == nil ? "cert= or REDIS_TLS_CERT" : "key= or REDIS_TLS_KEY"
                throw SettingError(key: source["cert"] ?? source["key"] ?? "REDIS_TLS_CERT", message: "a client certificate needs its private key and the key its certificate: set \(missing) too")
            }
            for file in files {
                guard let path = tls[keyPath: file.path] else { continue }
                guard access(path, R_OK) == 0 else {
                    let reason = String(cString: strerror(errno))
                    throw SettingError(key: source[file.option] ?? file.variable, message: "cannot read '\(path)': \(reason)")
                }
            }
            // Readable is not usable: a directory, the certificate given as the key. Loaded now, the file is named with
            // its setting (exit 78); loaded at the first connection, it was "Redis unreachable" (exit 2) naming a path.
            // Without OpenSSL on the system the connection says so, as it does for a URL without files.
            if files.contains(where: { tls[keyPath: $0.path] != nil }), TLSContext.loadFailure == nil {
                do throws(TransportFailure) {
                    _ = try TLSContext(tls)
                } catch {
                    // TLSContext's message begins with which file failed ("the CA file", "the client certificate", "the
                    // client key"); matched at its start, not anywhere (a path may hold those words).
                    let option = error.reason.hasPrefix("TLS: cannot use the client key") ? "key" : error.reason.hasPrefix("TLS: cannot load the client certificate") ? "cert" : "ca"
                    let named = files.first { $0.option == option }
                    throw SettingError(key: named.map { source[$0.option] ?? $0.variable } ?? "REDIS_TLS_CA", message: error.reason)
                }
            }
        }
        if !waitOptionsInURL.contains("wait_replicas"), let replicas = value("REDIS_WAIT_REPLICAS") {
            guard let n = Int(replicas), n >= 0 else { throw SettingError(key: "REDIS_WAIT_REPLICAS", message: "'\(replicas)' is not a number of replicas") }
            waitReplicas = n
        }
        if !waitOptionsInURL.contains("wait_timeout_ms"), let milliseconds = value("REDIS_WAIT_TIMEOUT_MS") {
            guard let n = Int(milliseconds), (1...Self.maxWaitTimeoutMilliseconds).contains(n) else {
                throw SettingError(key: "REDIS_WAIT_TIMEOUT_MS", message: "'\(milliseconds)' is not milliseconds from 1 to \(Self.maxWaitTimeoutMilliseconds)")
            }
            waitTimeout = .milliseconds(n)
        }
    }
}
