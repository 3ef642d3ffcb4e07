import ArgumentParser

/// `hoopoe dead`: the dead set, where jobs go when they are out of attempts or cannot run at all.
struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead",
        abstract: "List, inspect, retry or delete dead jobs.",
        discussion: """
            A job is dead when it ran out of attempts, its handler gave up on it for good, its type is unknown, \
            or its payload does not fit the handler. Dead jobs are kept (at most 10,000 per queue, 180 days: \
            the workers serving the queue trim the rest) with their reason, last error, attempts and time of death, \
            until retried or deleted.
            Phone numbers in payloads and errors are masked in everything these commands print.
            """,
        subcommands: [
            DeadListCommand.self, DeadShowCommand.self, DeadRetryCommand.self, DeadRetryAllCommand.self, DeadDeleteCommand.self,
        ]
    )
}
