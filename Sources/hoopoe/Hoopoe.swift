import ArgumentParser

@main
struct Hoopoe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hoopoe",
        abstract: "A Redis-backed background job worker and scheduler.",
        version: "0.1.0",
        subcommands: [WorkerCommand.self, SchedulerCommand.self, EnqueueCommand.self, PingCommand.self, HealthCheckCommand.self, QueuesCommand.self, QueueCommand.self, DeadCommand.self, JobCommand.self, ScheduleCommand.self, DashboardCommand.self, FunctionsCommand.self, DevCommand.self]
    )
}
