import ArgumentParser

/// `hoopoe job`: one job by id, wherever it is.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Show, cancel or run now one job by id.",
        subcommands: [JobShowCommand.self, JobCancelCommand.self, JobRunNowCommand.self]
    )
}
