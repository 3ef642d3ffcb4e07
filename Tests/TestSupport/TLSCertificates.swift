import Foundation
import Synchronization

/// Certificates made by `openssl` at test time, for a `redis-server` with TLS: a CA, a server certificate it signed
/// (for `localhost` and `127.0.0.1`), a client certificate it signed, and an unrelated CA that trusts neither.
/// EC keys (P-256): made in milliseconds. Deleted with the object.
public final class TLSCertificates: Sendable {
    /// The folder holding every file.
    public let directory: String
    /// The CA that signed the server and client certificates.
    public var caFile: String { "\(directory)/ca.pem" }
    /// The server's certificate and key (`--tls-cert-file`, `--tls-key-file`).
    public var serverCertificate: String { "\(directory)/server.pem" }
    public var serverKey: String { "\(directory)/server.key" }
    /// A client certificate and key the CA signed (for `--tls-auth-clients yes`).
    public var clientCertificate: String { "\(directory)/client.pem" }
    public var clientKey: String { "\(directory)/client.key" }
    /// A CA that signed nothing here: trusting only it, the server must be refused.
    public var otherCAFile: String { "\(directory)/other-ca.pem" }

    /// One set for the whole test process, made on first use (eight `openssl` runs, awaited without blocking a
    /// thread of the cooperative pool, which would stall every other test).
    /// - Throws: when `openssl` is missing or fails.
    public static func shared() async throws -> TLSCertificates {
        try await SharedCertificates.instance.get()
    }

    /// Makes every file.
    /// - Parameter serverNames: the server certificate's subject alternative names.
    public init(serverNames: String = "DNS:localhost,IP:127.0.0.1") async throws {
        directory = NSTemporaryDirectory() + "hoopoe-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await makeCA("ca", name: "Hoopoe Test CA")
        try await makeCA("other-ca", name: "Somebody Else's CA")
        try await makeSigned("server", name: "localhost", extensions: "subjectAltName=\(serverNames)\nextendedKeyUsage=serverAuth\n")
        try await makeSigned("client", name: "hoopoe-client", extensions: "extendedKeyUsage=clientAuth\n")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `redis-server` options serving TLS with these files; `clients` is `--tls-auth-clients` (`no`, `optional`, `yes`).
    public func serverArguments(clients: String = "no") -> [String] {
        ["--tls-cert-file", serverCertificate, "--tls-key-file", serverKey, "--tls-ca-cert-file", caFile, "--tls-auth-clients", clients]
    }

    private func makeCA(_ file: String, name: String) async throws {
        try await openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(directory)/\(file).key",
            "-out", "\(directory)/\(file).pem", "-days", "2", "-subj", "/CN=\(name)",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    private func makeSigned(_ file: String, name: String, extensions: String) async throws {
        try extensions.write(toFile: "\(directory)/\(file).ext", atomically: true, encoding: .utf8)
        try await openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(directory)/\(file).key",
            "-out", "\(directory)/\(file).csr", "-subj", "/CN=\(name)",
        ])
        try await openssl([
            "x509", "-req", "-in", "\(directory)/\(file).csr", "-CA", caFile, "-CAkey", "\(directory)/ca.key", "-CAcreateserial",
            "-out", "\(directory)/\(file).pem", "-days", "2", "-extfile", "\(directory)/\(file).ext",
        ])
    }

    private func openssl(_ arguments: [String]) async throws {
        let binary = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else { throw TestSupportError("openssl is not installed: run scripts/install-deps.sh (it installs openssl)") }
        let process = try ChildProcess(binary, arguments)
        guard await process.wait(timeout: .seconds(60)) == 0 else { throw TestSupportError("openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(process.output)") }
    }
}

/// The process's one set of test certificates, made once even when many tests ask at the same moment.
private actor SharedCertificates {
    static let instance = SharedCertificates()
    private var making: Task<TLSCertificates, any Error>?
    /// The shared set's folder, removed when the test process exits: a static is never deinitialised, and each test
    /// process left its folder behind.
    private static let folder = Mutex<String?>(nil)

    func get() async throws -> TLSCertificates {
        if let making { return try await making.value }
        let task = Task {
            let made = try await TLSCertificates()
            Self.folder.withLock { $0 = made.directory }
            atexit { SharedCertificates.removeFolder() }
            return made
        }
        making = task
        return try await task.value
    }

    private static func removeFolder() {
        guard let folder = folder.withLock({ $0 }) else { return }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
