import Foundation
import HTTPTypes
@testable import HoopoeDashboard
import Testing

/// DNS rebinding: without a password, a request whose `Host` is a name other than localhost is refused.
@Suite struct HostCheckTests {
    @Test func addressesAndLocalhostPassNamesDoNot() {
        for allowed in ["localhost:9460", "LOCALHOST", "127.0.0.1:9460", "10.0.0.5", "[::1]:9460", "[fe80::1]", nil] {
            #expect(HostCheck.allowsWithoutPassword(allowed), "\(allowed ?? "nil")")
        }
        for refused in ["rebound.example:9460", "127.0.0.1.nip.io", "localhost.attacker.example", "1.2.3", "[::1", "dash"] {
            #expect(!HostCheck.allowsWithoutPassword(refused), "\(refused)")
        }
    }

    /// Behind a reverse proxy `Host` is the proxy's upstream (`127.0.0.1:9460`), whoever asked, so a rebound name aimed
    /// at the proxy passed the check. Without a password a request a proxy marked as forwarded is refused; with one
    /// it is served (the password tells).
    @Test func aForwardedRequestIsRefusedWithoutAPassword() async throws {
        for header in ["Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP"] {
            let forwarded: HTTPFields = [HTTPField.Name(header)!: "evil.example"]
            let open = try DashboardHarness()
            let refused = try await open.get("/", headers: forwarded)
            #expect(refused.status == .forbidden && refused.text.contains("came through a proxy"), "\(header): \(refused.status)")
            #expect(try await open.get("/").status == .ok, "without the header it is served")
            let guarded = try DashboardHarness(password: "s3cret")
            let basic = "Basic " + Data("any:s3cret".utf8).base64EncodedString()
            var withAuth = forwarded
            withAuth[.authorization] = basic
            #expect(try await guarded.get("/", headers: withAuth).status == .ok, "\(header) with the password")
        }
    }
}
