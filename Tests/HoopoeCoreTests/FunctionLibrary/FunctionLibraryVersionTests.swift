import Foundation
import TestSupport
import Testing

@testable import HoopoeCore

/// The version tag is a true SHA-1: an operator can check it with any tool.
@Suite struct FunctionLibraryVersionTests {
    @Test func theLibrarysVersionIsWhatSha1sumSays() async throws {
        let library = FunctionLibrary(scripts: FunctionLibrary.engineScripts)
        let body = String(library.code[..<library.code.range(of: "\nredis.register_function{function_name='hoopoe_library_version'")!.lowerBound])
        let check = try ChildProcess("/bin/sh", ["-c", "printf '%s' \"$BODY\" | sha1sum"], environment: ["BODY": body])
        #expect(await check.wait(timeout: .seconds(10)) == 0)
        #expect(check.output.hasPrefix(library.version), "\(check.output)")
    }
}
