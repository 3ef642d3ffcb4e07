import Foundation
import HoopoeJobs
import Providers
import TestSupport
import Testing

/// A provider's base URL carries its API key (Kavenegar's in the path, IPPanel's and Brevo's in a header): `http://`
/// to another host would send it in cleartext, so start-up refuses it (exit 78, naming the variable). `http://` to
/// this machine stays allowed: the fake providers and the tests listen there.
@Suite struct SMSProviderBaseURLTests {
    static let keys = ["KAVENEGAR_API_KEY": "secret-kavenegar-key", "IPPANEL_API_KEY": "secret-ippanel-key",
                       "IPPANEL_FROM_NUMBER": "+983000505", "BREVO_API_KEY": "secret-brevo-key"]

    @Test(arguments: ["KAVENEGAR_BASE_URL", "IPPANEL_BASE_URL", "BREVO_BASE_URL"])
    func cleartextToAnotherHostIsRefused(key: String) {
        for url in ["http://api.example.com/v1", "http://10.0.0.5:8080", "HTTP://api.example.com", "http://127.0.0.1.example.com/v1"] {
            #expect {
                _ = try ProviderSettings(environment: EnvironmentReader(Self.keys.merging([key: url]) { $1 }))
            } throws: { error in
                guard let error = error as? ConfigurationError else { return false }
                return error.key == key && error.message.contains("https://")
            }
        }
    }

    @Test(arguments: ["https://api.example.com/v1", "http://127.0.0.1:8787/kavenegar/v1", "http://localhost:8787", "http://[::1]:8787/v1",
                      "http://127.1.2.3/"])
    func httpsAndLoopbackAreAccepted(url: String) throws {
        let settings = try ProviderSettings(environment: EnvironmentReader(Self.keys.merging(["KAVENEGAR_BASE_URL": url, "BREVO_BASE_URL": url]) { $1 }))
        #expect(settings.kavenegar?.baseURL == (url.hasSuffix("/") ? String(url.dropLast()) : url))
        #expect(settings.brevo != nil)
    }

    @Test func theWorkerStopsWithExit78NamingTheVariable() async throws {
        let harness = try await DomainHarness()
        let worker = try ChildProcess(
            BuiltProducts.hoopoe, ["worker"],
            environment: try harness.baseEnvironment.merging(["KAVENEGAR_API_KEY": "secret-kavenegar-key", "KAVENEGAR_BASE_URL": "http://api.kavenegar.com/v1"]) { $1 })
        let status = await worker.wait(timeout: .seconds(30))
        if status == nil {
            worker.signal(SIGTERM)
            _ = await worker.wait(timeout: .seconds(10))
        }
        #expect(status == 78, "\(worker.output)")
        #expect(worker.output.contains("KAVENEGAR_BASE_URL"), "\(worker.output)")
        #expect(!worker.output.contains("secret-kavenegar-key"))
    }
}
