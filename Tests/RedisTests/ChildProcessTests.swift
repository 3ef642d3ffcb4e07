import Foundation
import Testing

@testable import TestSupport

/// Every suite starts `redis-server`s and `hoopoe` processes through ``ChildProcess``; a descriptor of the test
/// process that such a child inherits stays open as long as the child runs, which once hid a socket's close from
/// another test for good.
@Suite struct ChildProcessTests {
    @Test func aChildGetsNoDescriptorBeyondItsOutput() async throws {
        var ends: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)  // deliberately not close-on-exec
        defer { ends.forEach { close($0) } }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("child-fds-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let child = try ChildProcess("/bin/sh", ["-c", "ls /proc/$$/fd"], logPath: log)
        #expect(await child.wait(timeout: .seconds(30)) == 0)
        let open = try String(contentsOfFile: log, encoding: .utf8).split(whereSeparator: \.isNewline).compactMap { Int32($0) }
        #expect(!open.contains(ends[0]) && !open.contains(ends[1]), "the child holds \(open)")
        #expect(Set(open).isSuperset(of: [1, 2]), "the child's output is gone: \(open)")
    }
}
