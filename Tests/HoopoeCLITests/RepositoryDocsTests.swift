import Foundation
import TestSupport
import Testing

/// The repository stands alone: what its code, tests and documents cite is inside it and exists. A comment that
/// sends a reader to a file outside the checkout, or to a page that was never written, is a lie a newcomer meets
/// first.
@Suite struct RepositoryDocsTests {
    private let root = BuiltProducts.projectRoot

    /// Every text file the rule covers: `Sources/`, `Tests/`, `jobs/`, `docs/`, and `README.md`.
    private func coveredFiles() -> [String] {
        let suffixes = [".swift", ".md", ".py", ".go", ".php", ".lua", ".yaml", ".yml", ".json", ".sh", ".h"]
        var paths = ["README.md"]
        for folder in ["Sources", "Tests", "jobs", "docs"] {
            let base = root.appendingPathComponent(folder).path
            let all = (FileManager.default.enumerator(atPath: base)?.allObjects as? [String]) ?? []
            // Not what others wrote: installed dependencies and tool output (`vendor/`, a `.venv`, caches).
            let foreign: Set<Substring> = ["vendor", "node_modules", "site-packages", "__pycache__"]
            paths += all.filter { path in
                suffixes.contains { path.hasSuffix($0) }
                    && !path.split(separator: "/").contains { $0.hasPrefix(".") || foreign.contains($0) }
            }.map { "\(folder)/\($0)" }
        }
        return paths.sorted()
    }

    private func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    private func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path)
    }

    /// A folder with a file in it: git keeps no empty folder, so one left empty in a working tree (its files moved)
    /// is absent from a fresh clone, where CI runs.
    private func holdsAFile(_ folder: String) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)) ?? []
        return !entries.filter { !$0.hasPrefix(".") }.isEmpty
    }

    /// The tests read the working tree, and CI runs them on a fresh clone: a file left untracked, or a folder emptied
    /// (git keeps no empty folder), passes here and fails there. Session 46's stop failed CI so: the code map named a
    /// folder whose scripts had moved, still there but empty in the working tree that ran `make test`.
    @Test func theTreeTheTestsReadIsWhatAFreshCloneHas() async throws {
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/git")
        else { return }  // not a git checkout (an exported tree): nothing differs from a clone
        let folders = ["Sources", "Tests", "jobs", "docs", "scripts", "deploy", "bench"]
        let git = try ChildProcess("/usr/bin/git", ["-C", root.path, "ls-files", "--others", "--exclude-standard", "--"] + folders)
        #expect(await git.wait(timeout: .seconds(60)) == 0, "\(git.output)")
        #expect(git.output.isEmpty, "untracked files a fresh clone lacks (add them, or ignore them): \(git.output)")
        var empty: [String] = []
        for folder in folders {
            let all = (FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path)?.allObjects as? [String]) ?? []
            for path in all where !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                let full = root.appendingPathComponent(folder).appendingPathComponent(path).path
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), isFolder.boolValue,
                    (try? FileManager.default.contentsOfDirectory(atPath: full))?.isEmpty == true
                {
                    empty.append("\(folder)/\(path)")
                }
            }
        }
        #expect(empty.isEmpty, "empty folders, absent from a fresh clone: \(empty)")
    }

    @Test func nothingCitesAPathOutsideTheRepository() throws {
        // Spelled in pieces so this file does not match itself.
        let outside = ["../" + "shared", "/work/" + "shared"]
        let files = coveredFiles()
        #expect(files.count > 100, "the walk found the tree")
        var offenders: [String] = []
        for path in files {
            let lines = try text(path).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() where outside.contains(where: { line.contains($0) }) {
                offenders.append("\(path):\(index + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(offenders.isEmpty, "cites a path outside the repository:\n\(offenders.joined(separator: "\n"))")
    }

    /// A file path such as `docs/providers.md` named anywhere must be a file of the tree (a comment once cited a
    /// `KEYS.md` under jobs/ that was never written).
    @Test func everyCitedRepositoryPathExists() throws {
        // (No lookbehind in Swift's Regex: the character before the path is matched and left out of the capture.)
        let cited = try Regex(#"(?:^|[^\w./-])((?:docs|jobs|deploy|scripts|bench|Sources|Tests)/[A-Za-z0-9_.+/-]*[A-Za-z0-9_])"#)
        var missing: [String] = []
        for path in coveredFiles() {
            let lines = try text(path).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                for match in line.matches(of: cited) {
                    guard let found = match.output[1].substring else { continue }
                    var candidate = String(found)
                    // Placeholders (`types/<type>.md`, `NNNN-title.md`) and globs name a pattern, not a file.
                    let next = line[found.endIndex...].first
                    if next == "<" || next == "{" || next == "*" || next == "@" || candidate.contains("NNNN") { continue }
                    while candidate.hasSuffix(".") { candidate.removeLast() }
                    // Only names with an extension are files for sure (`jobs/s` is a rate, `docs/decisions/0003` a prefix).
                    guard candidate.split(separator: "/").last?.contains(".") == true else { continue }
                    if !exists(candidate) { missing.append("\(path):\(index + 1): \(candidate)") }
                }
            }
        }
        #expect(missing.isEmpty, "cites a repository path that does not exist:\n\(missing.joined(separator: "\n"))")
    }

    /// `docs/providers.md §2.4.5` in a comment must name a section the page has, and every citation of the provider
    /// notes names the in-repository page.
    @Test func providerCitationsNameSectionsThatExist() throws {
        let page = try text("docs/providers.md")
        let headings = try Regex(#"(?m)^#{2,4} (\d+(?:\.\d+)*)"#)
        let sections = Set(page.matches(of: headings).map { String($0.output[1].substring ?? "") })
        #expect(sections.isSuperset(of: ["1", "2.4.5", "2.6", "3.2", "4.5", "6.1", "6.2", "6.3"]), "\(sections.sorted())")

        let citation = try Regex(#"(docs/)?providers\.md((?:,? ?§\d+(?:\.\d+)*[a-z]?)*)"#)
        let section = try Regex(#"§(\d+(?:\.\d+)*)"#)
        var wrong: [String] = []
        for path in coveredFiles() where path != "docs/providers.md" {
            let lines = try text(path).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                for match in line.matches(of: citation) {
                    let before = line[..<match.range.lowerBound].last
                    if before == "-" || before == "_" { continue }  // fake-providers.md, another page
                    if before == "[" || before == "(" { continue }  // a Markdown link: everyRelativeLinkResolves checks it
                    if match.output[1].substring == nil {
                        wrong.append("\(path):\(index + 1): cites the provider notes without `docs/`")
                    }
                    let cited = String(match.output[2].substring ?? "")
                    for number in cited.matches(of: section) {
                        let name = String(number.output[1].substring ?? "")
                        if !sections.contains(name) { wrong.append("\(path):\(index + 1): no §\(name) in docs/providers.md") }
                    }
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
    }

    /// Every relative link of README.md and the pages under docs/ reaches a file of the tree.
    @Test func everyRelativeLinkResolves() throws {
        let link = try Regex(#"\]\(([^)\s]+)\)"#)
        let pages = ["README.md"] + coveredFiles().filter { $0.hasPrefix("docs/") && $0.hasSuffix(".md") }
        #expect(pages.count >= 5)
        var broken: [String] = []
        var checked = 0
        for page in pages {
            let folder = URL(fileURLWithPath: page).deletingLastPathComponent().relativePath
            for match in try text(page).matches(of: link) {
                let target = String(match.output[1].substring ?? "")
                if target.hasPrefix("http://") || target.hasPrefix("https://") || target.hasPrefix("mailto:") || target.hasPrefix("#") {
                    continue
                }
                let file = String(target.split(separator: "#", maxSplits: 1)[0])
                let resolved = (folder == "." ? file : "\(folder)/\(file)")
                let standardized = URL(fileURLWithPath: resolved, relativeTo: root).standardizedFileURL.path
                checked += 1
                if !FileManager.default.fileExists(atPath: standardized) { broken.append("\(page): \(target)") }
            }
        }
        #expect(checked >= 5, "the pages have links to check")
        #expect(broken.isEmpty, "broken relative links:\n\(broken.joined(separator: "\n"))")
    }

    /// The clients' READMEs list what a wait can answer as PROTOCOL.md does: code written from a list without
    /// `deferred` took an SMS put off by quiet hours for a failure.
    @Test func clientReadmesListEveryAnswerOutcome() throws {
        let protocolText = try text("jobs/PROTOCOL.md")
        let sentence = try #require(protocolText.range(of: "`outcome` is ").map { protocolText[$0.upperBound...].prefix { $0 != ";" } })
        let outcomes = sentence.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(outcomes.count >= 5, "\(outcomes)")
        for (client, call) in [("python", "wait_for("), ("php", "waitFor("), ("go", "WaitFor(")] {
            let readme = try text("jobs/clients/\(client)/README.md")
            let line = try #require(readme.split(separator: "\n").first { $0.contains(call) }, "\(client)'s README shows \(call)")
            for outcome in outcomes {
                #expect(line.contains(outcome), "jobs/clients/\(client)/README.md's \(call) line does not list \(outcome): \(line)")
            }
        }
    }

    /// docs/README.md is the index of docs/: every page there is linked from it.
    @Test func docsIndexLinksEveryPage() throws {
        let index = try text("docs/README.md")
        let pages = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") && $0 != "README.md" }
        #expect(pages.count >= 4)
        for page in pages {
            #expect(index.contains("](\(page))"), "docs/README.md does not link \(page)")
        }
    }

    /// The README's layout names every target under Sources/ and the folders a newcomer looks for.
    @Test func readmeLayoutListsEveryTarget() throws {
        let readme = try text("README.md")
        let layout = try #require(readme.range(of: "## Layout")).upperBound
        let section = String(readme[layout...])
        let targets = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path)
            .filter { !$0.hasPrefix(".") }
        #expect(targets.count >= 9)
        let required = targets.map { "Sources/\($0)" } + ["jobs/clients", "jobs/conformance", "Tests/blackbox", "docs/providers.md"]
        let lines = section.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        for entry in required {
            #expect(lines.contains(entry) || lines.contains(entry + "/"), "README layout lacks \(entry)")
        }
    }

    /// docs/code-map.md tells a newcomer which type owns each Redis area and where scripts go: every type it names
    /// is declared under Sources/, every folder it names exists, and every target of Sources/ has its row, so the
    /// map cannot keep a store that was renamed or a folder that moved.
    @Test func codeMapNamesTypesAndFoldersThatExist() throws {
        let map = try text("docs/code-map.md")
        let targets = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path)
            .filter { !$0.hasPrefix(".") && $0 != "hoopoe-bench" }
        let sources = coveredFiles().filter { ($0.hasPrefix("Sources/") || $0.hasPrefix("Tests/")) && $0.hasSuffix(".swift") }
        let declarations = try sources.map { try text($0) }.joined(separator: "\n")
        let spans = map.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
        let typeNames = spans.filter { $0.range(of: #"^[A-Z][a-z]+[A-Za-z]*$"#, options: .regularExpression) != nil && !targets.contains($0) }
            .filter { !["Codable", "Sendable", "Encodable", "Decodable"].contains($0) }  // the standard library's
        #expect(typeNames.count > 25, "the map names the stores")
        for name in Set(typeNames) {
            let declared = declarations.range(
                of: #"(struct|class|enum|protocol|actor|typealias|extension) "# + name + #"\b"#, options: .regularExpression) != nil
            #expect(declared, "docs/code-map.md names `\(name)`, which nothing under Sources/ or Tests/ declares")
        }
        let folders = spans.filter { $0.range(of: #"^(Hoopoe[A-Za-z]*|hoopoe)/[A-Za-z/+.]+$"#, options: .regularExpression) != nil }
        #expect(folders.count > 8)
        for folder in Set(folders) {
            let path = "Sources/" + folder.replacingOccurrences(of: "<Area>", with: "SMS")
            #expect(
                path.hasSuffix("/") ? holdsAFile(path) : exists(path),
                "docs/code-map.md names `\(folder)`, which is not under Sources/ (or is an empty folder, absent from a clone)")
        }
        for target in targets {
            #expect(map.contains("| `\(target)` |"), "docs/code-map.md has no row for the target \(target)")
        }
    }
}
