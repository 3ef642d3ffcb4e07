import Foundation
import TestSupport
import Testing

@testable import HoopoeCore

/// The version tag is a true SHA-1: an operator can check it with any tool.
@Suite struct SHA1Tests {
    @Test func knownDigests() {
        #expect(SHA1.hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        // 56 bytes: the padding spills into a second block.
        #expect(SHA1.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(SHA1.hex(String(repeating: "a", count: 1000)) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }

    @Test func theLibrarysVersionIsWhatSha1sumSays() async throws {
        let library = FunctionLibrary(scripts: FunctionLibrary.engineScripts)
        let body = String(library.code[..<library.code.range(of: "\nredis.register_function{function_name='hoopoe_library_version'")!.lowerBound])
        let check = try ChildProcess("/bin/sh", ["-c", "printf '%s' \"$BODY\" | sha1sum"], environment: ["BODY": body])
        #expect(await check.wait(timeout: .seconds(10)) == 0)
        #expect(check.output.hasPrefix(library.version), "\(check.output)")
    }
}
