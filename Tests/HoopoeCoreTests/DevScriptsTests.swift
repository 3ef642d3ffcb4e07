import Foundation
import TestSupport
import Testing

/// The scripts `make test` and a fresh clone's `make run` start with: scripts/test-redis.sh (the private Redis the tests
/// run against) and scripts/install-deps.sh (what is missing, Swift first). Each runs against stand-ins on PATH (a
/// redis-server that never answers, a swift of a given version, a python3 that records what it is asked), so nothing
/// is installed and no network is used.
@Suite struct DevScriptsTests {
    private static let projectRoot = BuiltProducts.projectRoot

    /// A folder of its own, with `files` (relative path: contents), executable when the contents start with `#!`.
    private static func folder(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-scripts-\(UUID().uuidString)")
        for (path, contents) in files {
            let file = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: file, atomically: true, encoding: .utf8)
            if contents.hasPrefix("#!") { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path) }
        }
        return folder
    }

    private static var path: String { ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin" }

    // MARK: - scripts/test-redis.sh

    /// A redis-server that does not come up: test-redis.sh used to wait 5 s and run the command anyway, against a port
    /// nobody listened on (every test then failed on a connection refused). Now it prints the end of the server's log,
    /// or what redis-server said, and exits 1 without running the command; its temp folder is removed.
    @Test(arguments: [
        // Daemonizes (exit 0) but never listens.
        #"""
        #!/bin/sh
        while [ $# -gt 0 ]; do [ "$1" = --logfile ] && log="$2"; shift; done
        echo "stand-in redis-server: cannot listen" >>"$log"
        exit 0
        """#,
        // Refuses its arguments, as a bad configuration does.
        #"""
        #!/bin/sh
        echo "*** FATAL CONFIG FILE ERROR (stand-in redis-server) ***" >&2
        exit 1
        """#,
    ])
    func testRedisDoesNotRunTheCommandWhenItsRedisDidNotStart(_ standIn: String) async throws {
        let work = try Self.folder(["bin/redis-server": standIn + "\n", "tmp/.keep": ""])
        defer { try? FileManager.default.removeItem(at: work) }
        let marker = work.appendingPathComponent("ran")
        let script = Self.projectRoot.appendingPathComponent("scripts/test-redis.sh").path
        let run = try ChildProcess("/bin/bash", [script, "touch", marker.path], environment: [
            "PATH": work.appendingPathComponent("bin").path + ":" + Self.path, "TMPDIR": work.appendingPathComponent("tmp").path,
        ])
        defer { run.signal(SIGKILL) }
        #expect(await run.wait(timeout: .seconds(60)) == 1, "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the command was not run: \(run.output)")
        #expect(run.output.contains("stand-in redis-server"), "says why: \(run.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("tmp").path) == [".keep"],
                "its temp folder is removed")
    }

    /// And with a real redis-server it runs the command against it and passes its exit status on.
    @Test func testRedisRunsTheCommandAgainstItsRedis() async throws {
        let script = Self.projectRoot.appendingPathComponent("scripts/test-redis.sh").path
        let run = try ChildProcess("/bin/bash", [script, "sh", "-c", #"redis-cli -u "$REDIS_URL" ping; exit 7"#])
        defer { run.signal(SIGKILL) }
        #expect(await run.wait(timeout: .seconds(60)) == 7, "\(run.output)")
        #expect(run.output.contains("PONG"), "\(run.output)")
    }

    // MARK: - scripts/install-deps.sh

    /// A copy of install-deps.sh in a project folder of stand-ins: apt-install-missing.sh, and on PATH a `swift`
    /// printing `swiftVersion` and a `python3` whose `-m venv` makes a venv of stand-ins; all record their calls.
    private struct Sandbox {
        let root: URL
        var calls: URL { root.appendingPathComponent("calls") }

        init() throws {
            let installDeps = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("scripts/install-deps.sh"), encoding: .utf8)
            root = try DevScriptsTests.folder([
                "scripts/install-deps.sh": installDeps,
                "scripts/apt-install-missing.sh": "#!/bin/sh\necho \"apt $*\" >>\"$CALLS\"\n",
                "Tests/blackbox/requirements.txt": "kavenegar==1.1.2\nredis==8.1.0\n",
                "Tests/browser/requirements.txt": "selenium==4.0.0\n",
                "bin/swift": "#!/bin/sh\necho \"Swift version $FAKE_SWIFT_VERSION (swift-$FAKE_SWIFT_VERSION-RELEASE)\"\necho \"Target: x86_64-unknown-linux-gnu\"\n",
                "bin/python3": #"""
                    #!/bin/sh
                    echo "python3 $*" >>"$CALLS"
                    if [ "$1" = -m ] && [ "$2" = venv ]; then
                      for venv; do :; done
                      rm -rf "$venv"; mkdir -p "$venv/bin"
                      printf '#!/bin/sh\nexit 0\n' >"$venv/bin/python"
                      printf '#!/bin/sh\necho "pip $*" >>"$CALLS"\n' >"$venv/bin/pip"
                      chmod +x "$venv/bin/python" "$venv/bin/pip"
                    fi
                    exit 0

                    """#,
            ])
        }

        /// Runs the copy; returns its exit status, its output and the calls recorded (and forgets them).
        func run(swiftVersion: String = "6.3.1", swift: String? = nil) async throws -> (status: Int32?, output: String, calls: [String]) {
            var environment = ["PATH": root.appendingPathComponent("bin").path + ":" + DevScriptsTests.path, "CALLS": calls.path,
                               "FAKE_SWIFT_VERSION": swiftVersion]
            environment["SWIFT"] = swift ?? ""
            let process = try ChildProcess("/bin/bash", [root.appendingPathComponent("scripts/install-deps.sh").path], environment: environment)
            defer { process.signal(SIGKILL) }
            let status = await process.wait(timeout: .seconds(60))
            let recorded = (try? String(contentsOf: calls, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: calls)
            return (status, process.output, recorded.split(separator: "\n").map(String.init))
        }
    }

    /// Swift is checked first: a missing one, or one older than 6.2 (Package.swift's NonisolatedNonsendingByDefault),
    /// stops the script with a message before anything is installed. It used to be checked last, after minutes of
    /// apt and pip, and only for being on PATH ("install Swift 6").
    @Test(arguments: [("6.1.2", nil), ("5.10", nil), ("6.3.1", "/nonexistent/swift")] as [(String, String?)])
    func installDepsRefusesAMissingOrTooOldSwiftBeforeInstallingAnything(_ version: String, _ swift: String?) async throws {
        let sandbox = try Sandbox()
        defer { try? FileManager.default.removeItem(at: sandbox.root) }
        let (status, output, calls) = try await sandbox.run(swiftVersion: version, swift: swift)
        #expect(status == 1, "\(output)")
        #expect(output.contains("Swift 6.2 or later"), "\(output)")
        if let swift { #expect(output.contains("\(swift): not found"), "\(output)") } else { #expect(output.contains("Swift \(version.split(separator: ".").prefix(2).joined(separator: "."))"), "\(output)") }
        #expect(calls.isEmpty, "nothing installed before the check: \(calls)")
    }

    @Test(arguments: ["6.2", "6.3.1", "7.0"])
    func installDepsGoesOnWithASwiftRecentEnough(_ version: String) async throws {
        let sandbox = try Sandbox()
        defer { try? FileManager.default.removeItem(at: sandbox.root) }
        let (status, output, calls) = try await sandbox.run(swiftVersion: version)
        #expect(status == 0, "\(output)")
        #expect(calls.first?.hasPrefix("apt ") == true, "\(calls)")
    }

    /// The provider-SDK venv is made again when Tests/blackbox/requirements.txt changed since it was made: it used to be
    /// checked by importing the modules only, so a changed pin was never installed.
    @Test func installDepsRemakesTheSDKVenvWhenItsRequirementsChange() async throws {
        let sandbox = try Sandbox()
        defer { try? FileManager.default.removeItem(at: sandbox.root) }
        let blackbox = sandbox.root.appendingPathComponent("Tests/blackbox/requirements.txt").path
        let sdkInstall = { (calls: [String]) in calls.filter { $0.hasPrefix("pip install") && $0.hasSuffix(blackbox) }.count }

        let first = try await sandbox.run()
        #expect(first.status == 0, "\(first.output)")
        #expect(sdkInstall(first.calls) == 1, "a fresh clone installs the SDKs: \(first.calls)")
        let second = try await sandbox.run()
        #expect(second.status == 0, "\(second.output)")
        #expect(!second.calls.contains { $0.hasPrefix("pip ") || $0.contains("-m venv") }, "nothing changed, nothing installed: \(second.calls)")

        try "kavenegar==1.1.3\nredis==8.1.0\n".write(toFile: blackbox, atomically: true, encoding: .utf8)
        let third = try await sandbox.run()
        #expect(third.status == 0, "\(third.output)")
        #expect(sdkInstall(third.calls) == 1, "a changed pin is installed: \(third.calls)")
        #expect(third.calls.contains { $0.contains("-m venv --clear") && $0.hasSuffix(".build/sdk-venv") }, "in a fresh venv: \(third.calls)")
        let fourth = try await sandbox.run()
        #expect(sdkInstall(fourth.calls) == 0, "and then not again: \(fourth.calls)")
    }
}
