import Foundation
import TestSupport
import Testing

/// `hoopoe dev fake-providers` stops cleanly: SIGTERM with a client's keep-alive connection open exits 0 and logs no
/// error (it used to log `error … Waiting on child channel: CancellationError()` on every stop).
@Suite struct FakeProvidersShutdownTests {
    @Test func sigtermStopsWithoutAnErrorLine() async throws {
        let server = try ChildProcess(BuiltProducts.hoopoe, ["dev", "fake-providers", "--port", "0", "--control"], environment: ["LOG_LEVEL": "debug"])
        defer { server.signal(SIGKILL) }
        let values = try await FakeProviderSettings.read(server, until: "FAKE_CONTROL_URL")
        let base = try #require(values["KAVENEGAR_BASE_URL"])
        let control = try #require(values["FAKE_CONTROL_URL"])
        // One keep-alive connection that has served a request and a control call, still open when SIGTERM arrives.
        let script = """
            import http.client, json, os, signal, sys, time, urllib.parse
            base, control, pid = urllib.parse.urlsplit(sys.argv[1]), urllib.parse.urlsplit(sys.argv[2]), int(sys.argv[3])
            conn = http.client.HTTPConnection(base.hostname, base.port, timeout=5)
            conn.request("POST", base.path + "/fake-kavenegar-key/account/info.json", body=b"")
            print(json.loads(conn.getresponse().read())["return"]["status"])
            conn.request("GET", control.path + "/requests")
            print(len(json.loads(conn.getresponse().read())["requests"]))
            os.kill(pid, signal.SIGTERM)
            time.sleep(1)
            """
        let client = try ChildProcess("/usr/bin/env", ["python3", "-c", script, base, control, String(server.pid)])
        #expect(await client.wait(timeout: .seconds(20)) == 0, "\(client.output)")
        #expect(client.output.split(separator: "\n") == ["200", "1"])
        #expect(await server.wait(timeout: .seconds(15)) == 0, "\(server.output)")
        let errors = server.output.split(separator: "\n").filter { $0.lowercased().contains("error") }
        #expect(errors.isEmpty, "\(server.output)")
    }

    /// The control API reprograms the fakes, so it is refused on a non-loopback address.
    @Test func controlNeedsALoopbackHost() async throws {
        let server = try ChildProcess(BuiltProducts.hoopoe, ["dev", "fake-providers", "--host", "0.0.0.0", "--port", "0", "--control"])
        defer { server.signal(SIGKILL) }
        let status = await server.wait(timeout: .seconds(15))
        #expect(status != nil && status != 0)
        #expect(server.output.contains("--control needs a loopback --host"), "\(server.output)")
    }
}
