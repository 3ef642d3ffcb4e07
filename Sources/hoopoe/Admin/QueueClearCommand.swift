import ArgumentParser
import Foundation
import HoopoeCore
import HoopoeJSON

/// `hoopoe queue clear NAME --yes`: removes the queue's jobs no worker has fetched (a flood that must not run).
struct QueueClearCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear",
        abstract: "Remove a queue's ready jobs (and with --scheduled its delayed jobs and retries), or those of one type.",
        discussion: """
            For a flood of jobs that must not run (a bug enqueued a million SMS): pause the queue first (`hoopoe \
            queue pause NAME`: its workers stop fetching and hand back what they fetched), clear it, fix the cause, \
            resume. A clear started within 2 s of the pause waits for the rest of them, so what the workers hand \
            back (within their half-second pause check, on a machine that is not overloaded) is cleared too. Removes \
            the jobs there when it starts (the ready ones oldest first), each as `hoopoe job cancel` would: its \
            unique lock released, a caller waiting on `notify` told "cancelled". A job a worker fetches meanwhile is \
            left to run and counted. Cleared jobs are not written to job history (a flood would fill it); the count \
            is the record. Running jobs and dead jobs are not touched (`hoopoe dead delete`).

            Without --yes nothing is removed: it says how many jobs it would look at (with --type, how many the \
            queue holds in all: counting one type's would read every job), and exits 64. --type must be a type this \
            build runs (a typo gets the closest name, as `hoopoe enqueue` gives it, and clears nothing); for jobs of \
            a type it does not run (a client's misspelt type, another build's), add --allow-unknown-type.
            Exit 0 cleared, 1 no such queue or, with REDIS_WAIT_REPLICAS, a cancel confirmed by too few replicas \
            (the line says so; run it again), 2 Redis unreachable, 64 a usage error (an unknown --type) or no --yes. \
            --json prints {"queue", "cleared", "fetched", "other_types"}.
            """
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queue: QueueNameArgument

    @Option(help: ArgumentHelp("Only jobs of this type (e.g. sms.send); the others stay.", valueName: "type"))
    var type: String?

    @Flag(help: "Accept a --type this build does not run (jobs a client sent with a misspelt type, or another build's workers run).")
    var allowUnknownType = false

    @Flag(help: "Also the queue's delayed jobs and retries.")
    var scheduled = false

    @Flag(help: "Remove them (without it, only say how many there are).")
    var yes = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if let type, let problem = EnvelopeRules.typeProblem(type) { throw ValidationError("--type: job type \(problem)") }
    }

    func run() async throws {
        let name = queue.name
        let what = (scheduled ? "ready, delayed and retrying jobs" : "ready jobs") + (type.map { " of type \($0)" } ?? "")
        let result = try await options.withJobQueue { jobs -> ClearResult in
            if let type, !allowUnknownType { try Self.checkRuns(type, registry: JobCatalog.inspectionRegistry(jobs: jobs)) }
            guard try await jobs.knownQueues().contains(name) else {
                printError("no queue named \(name) (\(try await QueueNameArgument.known(jobs)))")
                throw ExitCode(1)
            }
            let info = try await jobs.info(queue: name)
            guard yes else {
                let count = info.ready + (scheduled ? info.scheduled : 0)
                // With --type, the count is the queue's, not the type's: counting one type's reads every job (the clear
                // does, with --yes), and the dry run "only counts". It once said "holds 3 ready job(s); those of type X
                // would be removed", which read as 3 of type X for a type none of them had.
                let which = type.map { ", of which those of type \($0) would be removed (counting them reads every job: --yes does)" } ?? "; all would be removed"
                printError("queue \(name) holds \(count) \(scheduled ? "ready or scheduled" : "ready") job(s)\(which). Nothing was removed: run again with --yes")
                throw ExitCode(64)
            }
            if try await jobs.pausedQueues()[name] == nil {
                printError("note: queue \(name) is not paused: its workers keep fetching while this runs (hoopoe queue pause \(name) first)")
            }
            let milestones = Milestones(every: 10_000)
            return try await jobs.clear(queue: name, type: type, scheduled: scheduled) { progress in
                if milestones.passed(progress.cleared) { printError("… \(progress.cleared) cleared") }
            }
        }
        if json {
            printJSON(.object([
                "queue": .string(name), "cleared": .integer(Int64(result.cleared)), "fetched": .integer(Int64(result.fetched)),
                "other_types": .integer(Int64(result.otherTypes)),
            ]))
            return
        }
        var line = "cleared \(result.cleared) \(what) from queue \(name)"
        if result.fetched > 0 { line += "; \(result.fetched) fetched by workers meanwhile were left to run" }
        if result.otherTypes > 0 { line += "; \(result.otherTypes) of other types were left" }
        print(line)
    }

    /// Refuses a `type` `registry` does not run, naming the closest one it does as `hoopoe enqueue` does (exit 64): a
    /// typo (`sms.sendd`) matched no job, so the dry run counted the whole queue as if it would go and `--yes` cleared
    /// nothing and exited 0.
    static func checkRuns(_ type: String, registry: JobRegistry) throws {
        guard !registry.types.contains(type) else { return }
        let hint = EditDistance.suggestion(for: type, among: registry.types).map { "; did you mean \($0)?" } ?? ""
        throw usageFailure(
            "--type: unknown job type '\(type)'\(hint) (known: \(registry.types.joined(separator: ", "))); nothing was removed "
                + "(--allow-unknown-type clears jobs of a type this build does not run)")
    }
}
