import ArgumentParser

/// `hoopoe schedule`: the periodic tasks of the schedule file.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Inspect the periodic tasks of jobs/schedule.yaml.",
        subcommands: [ScheduleListCommand.self]
    )
}
