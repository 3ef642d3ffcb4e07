import Foundation
import TestSupport
import Testing

/// README's command table against each command's `--help`: a reader of the table learns every exit code the command
/// has. Its `enqueue` row left out 1 (the ACL refused a command; `REDIS_WAIT_REPLICAS` and too few replicas confirmed),
/// which `enqueue --help` and docs/operating.md list: a script written from the README took 1 for no error it knew.
@Suite struct ReadmeExitCodesTests {
    /// The exit codes a text names, as "Exit 0 when …, 3 when …, 64 for …" (help) or "exit 3 when …, 1 when …" (README).
    static func exitCodes(_ text: String) throws -> Set<Int> {
        let flat = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard let start = flat.range(of: "exit ", options: .caseInsensitive) else { return [] }
        let tail = String(flat[start.lowerBound...])
        let code = try NSRegularExpression(pattern: #"(?:^[Ee]xit |, )(\d+) (?:when|for)\b"#)
        return Set(code.matches(in: tail, range: NSRange(tail.startIndex..., in: tail)).compactMap { Int(tail[Range($0.range(at: 1), in: tail)!]) })
    }

    @Test func theEnqueueRowListsEveryExitCodeOfItsHelp() async throws {
        let h = try CLIHarness()
        let help = try await h.run(["enqueue", "--help"])
        #expect(help.status == 0, "\(help.output)")
        let helped = try Self.exitCodes(help.output).subtracting([0])
        #expect(helped.isSuperset(of: [1, 2, 3, 4, 64]), "the help's exit codes are read: \(helped)")
        let readme = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let row = try #require(readme.split(separator: "\n").first { $0.hasPrefix("| `hoopoe enqueue ") }, "README has an enqueue row")
        let listed = try Self.exitCodes(String(row))
        #expect(listed.isSuperset(of: helped), "README's enqueue row lacks exit \(helped.subtracting(listed).sorted()): \(row)")
    }
}
