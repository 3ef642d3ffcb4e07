import ArgumentParser
import Foundation
import HoopoeCore

/// `hoopoe queue pause NAME`: every worker stops fetching from the queue; its jobs wait, ready, until resumed.
struct QueuePauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a queue for every worker: its jobs stay ready and none starts until it is resumed.",
        discussion: """
            Within about a second every worker stops fetching from the queue (jobs already running finish; jobs a \
            worker had fetched but not started go back to the queue). Nothing is moved: the queue's jobs stay \
            ready, delayed jobs and retries still become ready when due, and `hoopoe queues` shows it PAUSED. \
            A paused queue's latency is not a health-check failure. A worker started later does not fetch from it \
            either. The pause lasts until `hoopoe queue resume NAME` (a restart does not clear it).

            Exit 0 paused (also when it was paused already), 1 no such queue (nothing in Redis under that name: \
            a queue exists once a worker serves it or a job is enqueued to it), 2 Redis unreachable, 64 not a \
            queue name.
            """
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queue: QueueNameArgument

    func run() async throws {
        let name = queue.name
        let (changed, pausedAt) = try await options.withJobQueue { jobs -> (Bool, Date?) in
            guard try await jobs.knownQueues().contains(name) else {
                printError("no queue named \(name) (\(try await QueueNameArgument.known(jobs)))")
                throw ExitCode(1)
            }
            let changed = try await jobs.pause(queue: name)
            return (changed, try await jobs.pausedQueues()[name])
        }
        if changed {
            print("paused queue \(name): workers stop fetching from it within a second; its jobs stay ready")
        } else {
            let since = pausedAt.map { " since \(TimeText.isoWithRelative($0.timeIntervalSince1970))" } ?? ""
            print("queue \(name) was already paused\(since)")
        }
    }
}

/// `hoopoe queue resume NAME`: workers serving the queue fetch from it again.
struct QueueResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused queue: workers serving it fetch from it again within about a second.",
        discussion: """
            Exit 0 resumed (also when it was not paused), 1 no such queue, 2 Redis unreachable, 64 not a queue name.
            """
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queue: QueueNameArgument

    func run() async throws {
        let name = queue.name
        let changed = try await options.withJobQueue { jobs -> Bool in
            // A queue whose keys are all gone may still be paused: resuming it is always allowed.
            if try await jobs.resume(queue: name) { return true }
            guard try await jobs.knownQueues().contains(name) else {
                printError("no queue named \(name) (\(try await QueueNameArgument.known(jobs)))")
                throw ExitCode(1)
            }
            return false
        }
        print(changed ? "resumed queue \(name): workers serving it fetch from it again within a second" : "queue \(name) was not paused")
    }
}

extension QueueNameArgument {
    /// "known queues: a, b" or "no queue exists yet", for the not-found message.
    static func known(_ jobs: JobQueue) async throws -> String {
        let names = try await jobs.knownQueues()
        return names.isEmpty ? "no queue exists yet" : "known queues: \(names.joined(separator: ", "))"
    }
}
