import Foundation
import Redis
import TestSupport
import Testing

/// `REDIS_TLS_*` and `REDIS_WAIT_*` on top of the URL: what the CLI applies before it connects.
/// A class, so that each test's files go with it (`deinit`): a struct's were left in the temporary folder, four files a
/// test, every run.
@Suite final class RedisConfigurationEnvironmentTests {
    private let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "hoopoe-tls-env-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["ca.pem", "cert.pem", "key.pem", "other-ca.pem"] {
            _ = FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: Data("pem".utf8))
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func apply(_ url: String, _ environment: [String: String]) throws(RedisConfiguration.SettingError) -> RedisConfiguration {
        var c = try! RedisConfiguration(url: url)
        try c.applyEnvironment { environment[$0] }
        return c
    }

    /// Real PEM files in this test's folder: the settings load them (a readable file OpenSSL cannot use is refused).
    private func realFiles() async throws {
        let certificates = try await TLSCertificates.shared()
        for (name, source) in [("ca.pem", certificates.caFile), ("other-ca.pem", certificates.otherCAFile),
                               ("cert.pem", certificates.clientCertificate), ("key.pem", certificates.clientKey)] {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
            try FileManager.default.copyItem(atPath: source, toPath: "\(directory)/\(name)")
        }
    }

    @Test func tlsFilesFromTheEnvironmentFillWhatTheURLLeftOut() async throws {
        try await realFiles()
        let c = try apply(
            "rediss://h/0?ca=\(directory)/ca.pem",
            ["REDIS_TLS_CA": "\(directory)/other-ca.pem", "REDIS_TLS_CERT": "\(directory)/cert.pem", "REDIS_TLS_KEY": "\(directory)/key.pem"])
        #expect(c.tls == RedisTLS(caFile: "\(directory)/ca.pem", certificateFile: "\(directory)/cert.pem", keyFile: "\(directory)/key.pem"))
        let sentinel = try apply("redis-sentinel://s1/0?master=m&tls=true", ["REDIS_TLS_CA": "\(directory)/ca.pem"])
        guard case .sentinel(let settings) = sentinel.topology else { Issue.record("not sentinel"); return }
        #expect(sentinel.tls?.caFile == "\(directory)/ca.pem" && settings.tls?.caFile == "\(directory)/ca.pem")
    }

    /// Readable, but not what OpenSSL can use: refused now, naming the setting (exit 78 in the CLI). At the first
    /// connection it was "unreachable" (exit 2), naming a path (a review found it).
    @Test func aReadableTLSFileOpenSSLCannotUseIsABadSettingNamed() async throws {
        try await realFiles()
        let cases: [(environment: [String: String], key: String, message: String)] = [
            (["REDIS_TLS_CA": directory], "REDIS_TLS_CA", "cannot load the CA file"),  // a directory
            (["REDIS_TLS_CA": "\(directory)/ca.pem", "REDIS_TLS_CERT": "\(directory)/cert.pem", "REDIS_TLS_KEY": "\(directory)/cert.pem"],
             "REDIS_TLS_KEY", "cannot use the client key"),  // the certificate given as the key
        ]
        for item in cases {
            #expect {
                try apply("rediss://h/0", item.environment)
            } throws: { error in
                guard let error = error as? RedisConfiguration.SettingError else { return false }
                return error.key == item.key && error.message.contains(item.message)
            }
        }
    }

    /// A key with a passphrase: OpenSSL's default asked for it on the terminal (stdin without one), from each connection
    /// thread. Refused at once, saying what to do.
    @Test func anEncryptedKeyIsRefusedNamedAndNeverPromptedFor() async throws {
        try await realFiles()
        let process = try ChildProcess("/usr/bin/openssl", [
            "pkey", "-in", "\(directory)/key.pem", "-aes256", "-passout", "pass:not-shown", "-out", "\(directory)/encrypted.pem",
        ])
        #expect(await process.wait(timeout: .seconds(30)) == 0, "\(process.output)")
        #expect {
            try apply("rediss://h/0", ["REDIS_TLS_CA": "\(directory)/ca.pem", "REDIS_TLS_CERT": "\(directory)/cert.pem", "REDIS_TLS_KEY": "\(directory)/encrypted.pem"])
        } throws: { error in
            guard let error = error as? RedisConfiguration.SettingError else { return false }
            return error.key == "REDIS_TLS_KEY" && error.message.contains("it is encrypted") && !error.message.contains("not-shown")
        }
    }

    @Test(arguments: [
        ("redis://h/0", ["REDIS_TLS_CA": "/x"], "REDIS_TLS_CA", "does not use TLS"),
        ("rediss://h/0", ["REDIS_TLS_CA": "/nonexistent/ca.pem"], "REDIS_TLS_CA", "cannot read '/nonexistent/ca.pem'"),
        ("rediss://h/0?ca=/nonexistent/ca.pem", [:], "ca= in the Redis URL", "cannot read"),
        ("rediss://h/0", ["REDIS_TLS_CERT": "CERT"], "REDIS_TLS_CERT", "set key= or REDIS_TLS_KEY too"),
        ("redis://h/0", ["REDIS_WAIT_REPLICAS": "two"], "REDIS_WAIT_REPLICAS", "'two' is not a number"),
        ("redis://h/0", ["REDIS_WAIT_TIMEOUT_MS": "-5"], "REDIS_WAIT_TIMEOUT_MS", "'-5' is not milliseconds from 1 to 3600000"),
        ("redis://h/0", ["REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "9223372036854775807"], "REDIS_WAIT_TIMEOUT_MS", "is not milliseconds from 1"),
    ])
    func aBadSettingIsNamed(url: String, environment: [String: String], key: String, message: String) {
        let environment = environment.mapValues { $0 == "CERT" ? "\(directory)/cert.pem" : $0 }
        #expect {
            try apply(url, environment)
        } throws: { error in
            guard let error = error as? RedisConfiguration.SettingError else { return false }
            return error.key == key && error.message.contains(message)
        }
    }

    @Test func durableWritesFromTheEnvironmentUnlessTheURLSaysSo() throws {
        let c = try apply("redis://h/0", ["REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "300"])
        #expect(c.waitReplicas == 1 && c.waitTimeout == .milliseconds(300))
        let url = try apply("redis://h/0?wait_replicas=2&wait_timeout_ms=50", ["REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "300"])
        #expect(url.waitReplicas == 2 && url.waitTimeout == .milliseconds(50))
    }

    /// An explicit URL option beats the environment even when it says the default: `wait_replicas=0` turns durable
    /// writes off for a process whose environment turns them on fleet-wide, and `wait_timeout_ms=1000` is kept.
    @Test func anExplicitURLOptionBeatsTheEnvironmentEvenAtItsDefault() throws {
        let off = try apply("redis://h/0?wait_replicas=0&wait_timeout_ms=1000", ["REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "300"])
        #expect(off.waitReplicas == 0)
        #expect(off.waitTimeout == .seconds(1))
        // The environment still fills what the URL left out.
        let partly = try apply("redis://h/0?wait_replicas=0", ["REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "300"])
        #expect(partly.waitReplicas == 0 && partly.waitTimeout == .milliseconds(300))
        // A bad environment value the URL overrides is not an error: it is not used.
        #expect(try apply("redis://h/0?wait_replicas=1", ["REDIS_WAIT_REPLICAS": "two"]).waitReplicas == 1)
    }
}
