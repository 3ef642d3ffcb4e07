import Foundation
import HoopoeCore
import Testing

@testable import HoopoeScheduler

/// How a schedule file's problems are worded: masked wherever a value is quoted, a quoted boolean named as the string
/// it is, and the time zones the parser takes said as they are.
@Suite struct ScheduleFileMessagesTests {
    private func problems(_ yaml: String) throws -> ScheduleFileError {
        try #require(throws: ScheduleFileError.self) { try ScheduleFile(yaml: yaml) }
    }

    /// `enabled: "false"` was refused as "expected true or false, found "false"": true, and no help.
    @Test(arguments: [("\"false\"", "false", "false"), ("'True'", "True", "true"), ("\"yes\"", "yes", "true"), ("\"off\"", "off", "false")])
    func aQuotedBooleanIsNamedAsAString(written: String, text: String, fix: String) throws {
        let error = try problems("tasks:\n  - {name: a, cron: \"0 9 * * *\", type: x, enabled: \(written)}\n")
        #expect(error.problems.map(\.code) == [.wrongType] && error.problems.first?.key == "enabled", "\(error)")
        #expect(error.description.contains("expected true or false, found the string \"\(text)\": write \(fix) unquoted"), "\(error)")
    }

    /// Any other text keeps the plain message; an unquoted boolean is taken.
    @Test func otherEnabledValues() throws {
        #expect(try problems("tasks:\n  - {name: a, cron: \"0 9 * * *\", type: x, enabled: \"maybe\"}\n").description
            .contains("expected true or false, found \"maybe\""))
        #expect(try ScheduleFile(yaml: "tasks:\n  - {name: a, cron: \"0 9 * * *\", type: x, enabled: false}\n").tasks.first?.enabled == false)
    }

    /// A phone number pasted where a name, a cron expression, a zone, a queue, a policy, a boolean or a key belongs is
    /// masked in the error's text, each problem's too; the parser masked only payload values.
    @Test func everyValueTheErrorQuotesIsMasked() throws {
        let error = try problems("""
            tasks:
              - name: "+989121234567"
                cron: "09121234567 * * * *"
                time_zone: "0912 123 4567"
                type: x
                queue: "{09121234567}"
                catch_up: "09121234567"
                enabled: "09121234567"
                "09121234567": x
            """)
        #expect(Set(error.problems.compactMap(\.key)) == ["name", "cron", "time_zone", "queue", "catch_up", "enabled", "09121234567"], "\(error)")
        for text in [error.description] + error.problems.map(\.description) {
            #expect(!text.contains("1234567") && !text.contains("123 4567"), "\(text)")
        }
        #expect(error.description.contains(PersonalDataMask.mask("09121234567")), "\(error)")
    }

    /// The zones the parser takes, said as they are: a name of the zone database, or UTC/GMT with an offset (`UTC+3`,
    /// `GMT+03:30`), which `TimeZone(identifier:)` takes as well. The message asked for an IANA name only.
    @Test func theTimeZoneMessageSaysWhatIsTaken() throws {
        let file = try ScheduleFile(yaml: """
            tasks:
              - {name: a, cron: "0 9 * * *", time_zone: UTC+3, type: x}
              - {name: b, cron: "0 9 * * *", time_zone: GMT+03:30, type: x}
              - {name: c, cron: "0 9 * * *", time_zone: UTC, type: x}
            """)
        #expect(file.tasks.map { $0.timeZone.secondsFromGMT() } == [10_800, 12_600, 0])
        let error = try problems("tasks:\n  - {name: a, cron: \"0 9 * * *\", time_zone: Mars/Olympus, type: x}\n")
        let text = error.description
        #expect(text.contains("unknown time zone \"Mars/Olympus\""), "\(text)")
        #expect(text.contains("Asia/Tehran") && text.contains("UTC+3") && text.contains("GMT+03:30"), "\(text)")
        #expect(!text.contains("use an IANA name such as"), "\(text)")
    }

    /// `hoopoe schedule list` shows each task's zone as the file writes it, from this reading.
    @Test func writtenTimeZones() {
        let yaml = """
            tasks:
              - {name: a, cron: "0 9 * * *", time_zone: UTC, type: x}
              - {name: b, cron: "0 9 * * *", time_zone: " UTC+3 ", type: x}
              - {name: c, cron: "0 9 * * *", type: x}
            """
        #expect(ScheduleFile.writtenTimeZones(yaml: yaml) == ["a": "UTC", "b": "UTC+3"])
        #expect(ScheduleFile.writtenTimeZones(yaml: "tasks: [").isEmpty)
        #expect(ScheduleFile.writtenTimeZones(yaml: "").isEmpty)
    }
}
