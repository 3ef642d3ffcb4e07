import Foundation
import Redis
import TestSupport
import Testing

/// What a failed TLS connect says, against a real `redis-server`: each message names its cause, not a neighbouring one
/// (an expired certificate was "not trusted by the CA" that signs it; a refused client certificate and a plain client
/// at a TLS port were "Connection reset by peer" alone).
@Suite struct TLSMessagesTests {
    let certificates: TLSCertificates

    init() async throws {
        certificates = try await TLSCertificates.shared()
    }

    /// A certificate and key `file` signed by the CA whose files start with `ca` in the shared folder, valid `days`
    /// (negative: expired), made in a folder of the test's own.
    private func signed(_ file: String, by ca: String, days: Int, extensions: String, in folder: String) async throws -> (certificate: String, key: String) {
        try extensions.write(toFile: "\(folder)/\(file).ext", atomically: true, encoding: .utf8)
        try await openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(folder)/\(file).key",
            "-out", "\(folder)/\(file).csr", "-subj", "/CN=\(file)",
        ])
        try await openssl([
            "x509", "-req", "-in", "\(folder)/\(file).csr", "-CA", "\(certificates.directory)/\(ca).pem", "-CAkey", "\(certificates.directory)/\(ca).key",
            "-CAcreateserial", "-CAserial", "\(folder)/\(file).srl", "-out", "\(folder)/\(file).pem", "-days", String(days), "-extfile", "\(folder)/\(file).ext",
        ])
        return ("\(folder)/\(file).pem", "\(folder)/\(file).key")
    }

    private func openssl(_ arguments: [String]) async throws {
        let process = try ChildProcess("/usr/bin/openssl", arguments)
        try #require(await process.wait(timeout: .seconds(60)) == 0, "openssl \(arguments.prefix(2)): \(process.output)")
    }

    private func folder() throws -> String {
        let path = NSTemporaryDirectory() + "hoopoe-tls-messages-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The first connect's error of a client at `url`, within a short window.
    private func connectError(_ url: String) async throws -> RedisError? {
        var configuration = try RedisConfiguration(url: url)
        configuration.reconnectWindow = .milliseconds(300)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        do {
            try await redis.send("PING")
            return nil
        } catch let error as RedisError {
            return error
        }
    }

    @Test func anExpiredServerCertificateIsNamedAsExpiredNotAsUntrusted() async throws {
        let folder = try folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let expired = try await signed(
            "expired", by: "ca", days: -1, extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", in: folder)
        let server = try RedisServer(arguments: ["--tls-cert-file", expired.certificate, "--tls-key-file", expired.key], tls: certificates)
        let error = try await connectError("\(server.url)?ca=\(certificates.caFile)")
        let message = error?.message ?? ""
        #expect(message.contains("certificate has expired") && message.contains("has expired: renew it on the server"), "\(message)")
        #expect(!message.contains("is not trusted by"), "the CA does sign it: \(message)")
    }

    @Test func aClientCertificateTheServerRefusesIsNamed() async throws {
        let folder = try folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let stranger = try await signed("stranger", by: "other-ca", days: 2, extensions: "extendedKeyUsage=clientAuth\n", in: folder)
        let server = try RedisServer(tls: certificates, clients: "yes")
        let error = try await connectError("\(server.url)?ca=\(certificates.caFile)&cert=\(stranger.certificate)&key=\(stranger.key)")
        #expect(error?.message.contains("the server may have refused this client certificate") == true, "\(String(describing: error))")
    }

    @Test func aPlainClientAtATLSPortIsAskedWhetherItWantsTLS() async throws {
        let server = try RedisServer(tls: certificates)
        let error = try await connectError("redis://127.0.0.1:\(server.port)/0")
        #expect(error?.code == .connectionFailed, "\(String(describing: error))")
        #expect(error?.message.contains("does this port want TLS? then rediss://") == true, "\(String(describing: error))")
    }
}
