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
}
