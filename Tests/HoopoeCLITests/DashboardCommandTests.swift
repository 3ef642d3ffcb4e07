import Foundation
import TestSupport
import Testing

/// `hoopoe dashboard` fails closed: it does not serve its pages and actions to anyone who reaches the port.
@Suite struct DashboardCommandTests {
    /// An address beyond loopback without a password (unset, or set to nothing) stops start-up with exit 78 naming
    /// the setting.
    @Test(arguments: [
        (["--port", "0", "--bind", "0.0.0.0"], [:], "HOOPOE_DASHBOARD_PASSWORD is not set and --bind 0.0.0.0 is not loopback"),
        (["--port", "0", "--bind", "::"], ["HOOPOE_DASHBOARD_PASSWORD": ""], "HOOPOE_DASHBOARD_PASSWORD is not set and --bind :: is not loopback"),
        // A name that looks like a loopback address is a name: DNS may resolve it anywhere.
        (["--port", "0", "--bind", "127.ops.example.com"], [:], "HOOPOE_DASHBOARD_PASSWORD is not set and --bind 127.ops.example.com is not loopback"),
    ])
    func anOpenDashboardIsRefused(arguments: [String], environment: [String: String], message: String) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["dashboard", "--schedule", noSchedule] + arguments, environment: environment, timeout: .seconds(15))
        #expect(status == 78, "\(output)")
        #expect(output.contains(message), "\(output)")
    }

    /// With a password it serves on any address; on loopback it serves without one.
    @Test(arguments: [(["--bind", "0.0.0.0"], ["HOOPOE_DASHBOARD_PASSWORD": "pw"]), ([], [:])])
    func aClosedOrLoopbackDashboardStarts(arguments: [String], environment: [String: String]) async throws {
        let h = try CLIHarness()
        let process = try ChildProcess(
            BuiltProducts.hoopoe, ["dashboard", "--port", "0", "--schedule", noSchedule] + arguments,
            environment: ["REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace].merging(environment) { $1 })
        #expect(try await h.eventually { process.output.contains("dashboard: http://") }, "\(process.output)")
        process.signal(SIGTERM)
        #expect(await process.wait(timeout: .seconds(10)) == 0, "\(process.output)")
    }
}
