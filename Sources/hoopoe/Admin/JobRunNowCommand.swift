import ArgumentParser
import Foundation
import HoopoeCore

/// `hoopoe job run-now ID`: a delayed job or a retry runs now instead of at its time.
struct JobRunNowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-now",
        abstract: "Run a delayed job or a retry now instead of at its time.",
        discussion: """
            The job goes to its queue's stream as a due one does, and the next worker with a free slot runs it; its \
            envelope is kept as it is (a retry keeps its attempt count, a unique job its lock). A job that is not \
            scheduled is left alone and the message says where it is: ready (it runs when a worker is free), running, \
            dead (`hoopoe dead retry ID` puts it back), or finished.
            Exit 0 moved, 1 not scheduled or not found.
            """
    )

    @OptionGroup var target: JobTarget

    func run() async throws {
        let id = target.id
        let (outcome, searched) = try await target.search { jobs, queues -> (queue: String?, result: RunNowResult, state: JobState?, paused: Bool) in
            // One script a queue: a scheduled job is moved by the first that holds it, with no lookup before.
            for queue in queues {
                let result = try await jobs.runNow(id: id, queue: queue)
                // A paused queue's workers fetch nothing: "ready to run now" would not be true until it is resumed.
                let paused = result == .moved ? ((try? await jobs.pausedQueues())?[queue] != nil) : false
                if result != .notScheduled { return (queue, result, nil, paused) }
            }
            guard let (queue, job) = try await JobLookup.find(id: id, in: queues, jobs: jobs, stream: .bounded) else { return (nil, .notScheduled, nil, false) }
            return (queue, .notScheduled, job.state, false)
        }
        let queue = outcome.queue ?? "?"
        switch (outcome.result, outcome.state) {
        case (.moved, _) where outcome.paused:
            print("job \(id) on queue \(queue) is ready; the queue is paused, so it runs once it is resumed (hoopoe queue resume \(queue))")
        case (.moved, _):
            print("job \(id) on queue \(queue) is ready to run now")
        case (.noEnvelope, _):
            printError("job \(id) on queue \(queue) was scheduled without its envelope; its id was removed and nothing runs")
            throw ExitCode(1)
        case (.notScheduled, .ready?):
            printError("job \(id) on queue \(queue) is not scheduled: it is ready already and runs when a worker is free")
            throw ExitCode(1)
        case (.notScheduled, .running?):
            printError("job \(id) on queue \(queue) is not scheduled: a worker holds it (running, or fetched to run next)")
            throw ExitCode(1)
        case (.notScheduled, .dead?):
            printError("job \(id) on queue \(queue) is not scheduled: it is dead; `hoopoe dead retry \(id)` puts it back on its queue")
            throw ExitCode(1)
        case (.notScheduled, .finished(let record)?):
            printError("job \(id) on queue \(queue) is not scheduled: it finished (\(record.outcome.rawValue))")
            throw ExitCode(1)
        case (.notScheduled, .scheduled?), (.notScheduled, nil):
            throw target.notFound("scheduled job", searched: searched)
        }
    }
}
