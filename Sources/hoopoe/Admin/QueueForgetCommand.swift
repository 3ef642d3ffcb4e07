import ArgumentParser
import HoopoeCore

/// `hoopoe queue forget NAME`: drops a retired or renamed queue's bookkeeping, so it stops showing everywhere.
struct QueueForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Drop a retired queue: every key Hoopoe keeps for it, so it no longer shows in queues, the dashboard or the health check.",
        discussion: """
            A queue once served keeps showing, empty, with a warning that no worker serves it: its stream and the \
            workers' group, its counters, its job history, its pause, its place in the list of queues stay in Redis. \
            This removes all of it: every key under the queue's name (its job history and counters too, for good; \
            unique locks, answers not yet read, and the last ticks of periodic tasks that sent to it, which start \
            from now if they send to it again) and its name from the lists of queues, the paused queues and the \
            unserved queues.

            Refused while a live worker serves the queue (stop it, or restart it without the queue in its \
            --queues/HOOPOE_QUEUES, first: it would make the queue again), and while the queue holds a job a user \
            could lose: ready or in flight, delayed or retrying, dead. The message says how many and what to run \
            (`hoopoe queue clear NAME --scheduled --yes`; `hoopoe dead delete ID`, or the dashboard's Delete all, \
            for dead jobs; jobs in flight were fetched by workers no longer running: a worker serving the queue recovers and runs them). \
            With --force such jobs are deleted with the queue, and their numbers printed; a live worker still \
            refuses it. The count and the removal are one step: a job that arrives meanwhile is counted (and with --force deleted, \
            its unique lock and once key too, so it can be enqueued again at once).

            A name `hoopoe queues` lists but no enqueue accepts (a service's XADD made `a*b`) can be forgotten too.
            Exit 0 forgotten, 1 no such queue (nothing in Redis under that name) or, with REDIS_WAIT_REPLICAS, \
            confirmed by too few replicas (run it again), 2 Redis unreachable, 3 refused (a live worker serves it, \
            or it holds jobs and --force was not given), 64 a usage error.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: ArgumentHelp("The queue's name, as `hoopoe queues` lists it.", valueName: "queue"))
    var name: String

    @Flag(help: "Delete the jobs it still holds (ready, in flight, scheduled, dead) with it, and print how many.")
    var force = false

    func validate() throws {
        if let problem = JobQueue.forgetNameProblem(name) { throw ValidationError("the queue name \(problem)") }
    }

    func run() async throws {
        let name = self.name
        let force = self.force
        let result = try await options.withJobQueue { jobs -> ForgetResult in
            let result = try await jobs.forget(queue: name, force: force)
            if result == .notFound {
                printError("no queue named \(name) (\(try await QueueNameArgument.known(jobs)))")
                throw ExitCode(1)
            }
            return result
        }
        switch result {
        case .forgotten(let keys, let dropped):
            var line = "forgot queue \(name): \(keys) key(s) removed; it no longer shows in `hoopoe queues`"
            if dropped.total > 0 { line += "; deleted with it: \(Self.describe(dropped))" }
            print(line)
        case .holdsJobs(let holdings):
            printError("queue \(name) holds \(Self.describe(holdings)); nothing was forgotten. \(Self.advice(holdings, queue: name))")
            throw ExitCode(3)
        case .served(let workers):
            let names = workers.map { worker in
                "\(worker.id) (host \(worker.fields["host"] ?? "?"), pid \(worker.fields["pid"] ?? "?"))"
            }
            printError(
                "queue \(name) is served by \(workers.count) live worker(s): \(names.joined(separator: ", ")); nothing was forgotten. "
                    + "Stop them, or restart them without \(name) in their queues, first (--force does not override this)")
            throw ExitCode(3)
        case .notFound:
            throw ExitCode(1)  // answered inside withJobQueue
        }
    }

    /// "2 ready, 1 in flight, 3 scheduled, 4 dead job(s)": the kinds it holds, in the order of `hoopoe queues`.
    static func describe(_ holdings: QueueHoldings) -> String {
        let parts = [(holdings.ready, "ready"), (holdings.inFlight, "in flight"), (holdings.scheduled, "scheduled"), (holdings.dead, "dead")]
            .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        return parts.joined(separator: ", ") + " job(s)"
    }

    /// What to run for each kind of job the queue holds, then --force.
    static func advice(_ holdings: QueueHoldings, queue: String) -> String {
        var steps: [String] = []
        if holdings.ready + holdings.scheduled > 0 {
            steps.append("`hoopoe queue clear \(queue) --scheduled --yes` removes the ready, delayed and retrying ones")
        }
        if holdings.inFlight > 0 {
            steps.append("those in flight were fetched by workers no longer running: a worker serving \(queue) recovers and runs them")
        }
        if holdings.dead > 0 {
            steps.append("`hoopoe dead list --queue \(queue)`, then `hoopoe dead delete ID` (or the dashboard's Delete all) for the dead ones")
        }
        let odd = EnvelopeRules.queueProblem(queue) != nil ? " (those commands refuse this name: --force is the way)" : ""
        return steps.joined(separator: "; ") + odd + "; or run again with --force to delete them with the queue."
    }
}
