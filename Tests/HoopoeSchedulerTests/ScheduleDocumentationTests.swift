import Foundation
import HoopoeScheduler
import Testing

/// The schedule entries `jobs/types/*.md` show are `jobs/schedule.yaml`'s: `sms.delivery_poll.md` showed
/// `name: sms-delivery-poll` where the file has `sms.delivery_poll`, and an entry copied from it made a second task
/// polling twice a minute. Each fenced `yaml` block with a `cron:` is read by the scheduler's own parser.
@Suite struct ScheduleDocumentationTests {
    /// The project's `jobs/` folder, found above this file.
    static func jobsFolder() -> URL {
        var folder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/", !FileManager.default.fileExists(atPath: folder.appendingPathComponent(ScheduleFile.defaultPath).path) {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("jobs")
    }

    /// The fenced ```` ```yaml ```` blocks of a Markdown text, each with the line its first line is on.
    static func yamlBlocks(in markdown: String) -> [(line: Int, text: String)] {
        var blocks: [(line: Int, text: String)] = []
        var current: (line: Int, lines: [String])?
        for (index, line) in markdown.components(separatedBy: "\n").enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var open = current {
                if trimmed.hasPrefix("```") {
                    blocks.append((open.line, open.lines.joined(separator: "\n")))
                    current = nil
                } else {
                    open.lines.append(line)
                    current = open
                }
            } else if trimmed == "```yaml" || trimmed == "```yml" {
                current = (index + 2, [])
            }
        }
        return blocks
    }

    /// A block as a schedule file: a bare task list (the lines to paste under `tasks:`) gets its `tasks:`.
    static func scheduleYAML(_ block: String) -> String {
        let first = block.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
        guard let first, first.trimmingCharacters(in: .whitespaces).hasPrefix("- ") else { return block }
        return "tasks:\n" + block
    }

    @Test func everyScheduleEntryInTheTypesDocsIsTheSchedulesOwn() throws {
        let jobs = Self.jobsFolder()
        let schedule = try ScheduleFile.load(contentsOf: jobs.appendingPathComponent("schedule.yaml"))
        let byType = Dictionary(grouping: schedule.tasks, by: \.type)
        let types = jobs.appendingPathComponent("types")
        let pages = try FileManager.default.contentsOfDirectory(atPath: types.path).filter { $0.hasSuffix(".md") }.sorted()
        var checked = 0
        for page in pages {
            let markdown = try String(contentsOf: types.appendingPathComponent(page), encoding: .utf8)
            for block in Self.yamlBlocks(in: markdown) where block.text.contains("cron:") {
                let place = "jobs/types/\(page):\(block.line)"
                let shown: ScheduleFile
                do {
                    shown = try ScheduleFile(yaml: Self.scheduleYAML(block.text), source: place)
                } catch {
                    Issue.record("\(place): the schedule entry does not parse: \(error)")
                    continue
                }
                for task in shown.tasks {
                    checked += 1
                    guard let own = byType[task.type], own.count == 1, let entry = own.first else {
                        Issue.record("\(place): jobs/schedule.yaml has \(byType[task.type]?.count ?? 0) entries of type \(task.type), not one")
                        continue
                    }
                    #expect(task.name == entry.name, "\(place): name \(task.name), jobs/schedule.yaml's is \(entry.name)")
                    #expect(task.type == entry.type, "\(place)")
                    #expect(task.queue == entry.queue, "\(place): queue \(task.queue), jobs/schedule.yaml's is \(entry.queue)")
                }
            }
        }
        #expect(checked > 0, "no schedule entry found in jobs/types/*.md: the test reads nothing")
    }

    @Test func blocksAreFoundAndBareListsGetTheirTasksKey() {
        let markdown = "Text\n\n```yaml\n  - name: a\n    cron: \"* * * * *\"\n```\n\n```json\n{}\n```\n"
        let blocks = Self.yamlBlocks(in: markdown)
        #expect(blocks.map(\.line) == [4])
        #expect(blocks.map(\.text) == ["  - name: a\n    cron: \"* * * * *\""])
        #expect(Self.scheduleYAML(blocks[0].text).hasPrefix("tasks:\n  - name: a"))
        #expect(Self.scheduleYAML("tasks:\n  - name: a") == "tasks:\n  - name: a")
    }
}
