import ArgumentParser
import HoopoeCore

/// `hoopoe queue`: what an operator does to one queue.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Pause or resume one queue for every worker, clear its waiting jobs, or forget a retired one.",
        subcommands: [QueuePauseCommand.self, QueueResumeCommand.self, QueueClearCommand.self, QueueForgetCommand.self]
    )
}

/// The queue a `hoopoe queue` subcommand acts on, checked: a name that cannot be a queue is a usage error (exit 64).
struct QueueNameArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The queue's name.", valueName: "queue"))
    var name: String

    func validate() throws {
        if let problem = EnvelopeRules.queueProblem(name) { throw ValidationError("the queue name \(problem)") }
    }
}
