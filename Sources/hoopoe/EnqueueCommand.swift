import ArgumentParser
import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Redis

/// `hoopoe enqueue`: puts one job on a queue, now or later, after checking its type and its payload's shape (the values
/// are the worker's to check).
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Enqueue one job, now or later.",
        discussion: """
            Examples (from the project folder; jobs/samples has a payload for every type):
              hoopoe enqueue diag.record --payload '{"key":"hoopoe:diag","member":"m"}'
              hoopoe enqueue sms.send --payload @jobs/samples/sms.send.json --in 10m
              hoopoe enqueue gift.expire --payload @jobs/samples/gift.expire.json \\
                --at 2030-12-31T09:00:00+03:30 --unique-key gift-7

            Checked before anything is written: the type must be one this build runs (a typo gets the closest \
            name), the payload valid JSON (an error gives its line and column) whose shape decodes as the type's \
            payload: its fields and their JSON types (a missing or mistyped field is named), --in a number with a \
            unit. Values are not checked here: a phone that is not a mobile number, or an unknown SMS template, is \
            enqueued, and the worker sends the job to the dead set with the reason. A queue no live worker serves \
            gets a warning on stderr (the job is enqueued and waits); a quiet worker (SIGTSTP) serves none, and the \
            warning names it.

            The queue is the type's unless --queue names another (jobs/PROTOCOL.md, "Which queue"): \
            \(JobCatalog.queueList), every other type on `default`.

            Prints the job id on stdout, and nothing else there: a refusal ("refused: job ID with unique key ...") and \
            every warning go to stderr. Exit 0 when enqueued, 3 when refused as a duplicate (--unique-key), 64 for a usage \
            error (unknown type, bad payload, bad option), 2 when Redis is unreachable or refuses writes (OOM, \
            NOREPLICAS, MISCONF, READONLY: nothing was written), 4 when \
            the enqueue was sent but no answer came in time (?timeout= in the URL, 2 s by default) or the \
            connection dropped: the job may be enqueued, so check before sending it again, 1 when its ACL refuses a \
            command, or when REDIS_WAIT_REPLICAS is set and fewer replicas acknowledged the job in time (it is on \
            the primary but a failover could lose it; nothing on stdout). Exit 4, and exit 1 for too few replicas, name \
            the job's id on stderr (`job 01J…`): look for it with `hoopoe job show ID` before sending the job again.

            Sent again with the same --id: a --unique-key job still pending or running is that job, not a duplicate \
            (exit 0, its id printed); one that already ran has released its key and is enqueued again, and runs \
            again. A plain job (no --unique-key) sent again is a second job with the same id, and both run (a \
            delayed one still waiting is replaced). So resend with --id only a job whose first send may be lost, and \
            only a unique one blindly.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The job type, e.g. sms.send.")
    var type: String

    @Option(help: "The payload: JSON text, or @path to read it from a file (UTF-8: a byte that is not is refused, by its offset).")
    var payload: String = "{}"

    @Option(name: .customLong("queue"), help: "The queue; by default the type's: \(JobCatalog.queueList), every other type on `default`.")
    var queueOption: String?

    /// The queue the job goes to: `--queue`, else the type's (``JobCatalog/queue(for:)``). `default` for every type
    /// sent `freecredit.request` where no worker given `--queues default` looks, while a user waited for the answer.
    var queue: String { queueOption ?? JobCatalog.queue(for: type) }

    @Option(help: ArgumentHelp(
        "The job's id (1-128 characters of A-Z a-z 0-9 . _ : -); by default a new one.",
        discussion: "To send again a job whose first send got no answer (exit 4), with the id that exit named; see the resend rules above."))
    var id: String?

    @Option(name: .customLong("in"), help: "Run after a delay: 90s, 10m, 2h, 1d (the unit is required; at most 3650d).")
    var delay: String?

    @Option(help: "Run at a time, ISO 8601 with an offset: 2026-11-24T09:00:00+03:30 (from 1970 on, at most 3650 days ahead; a time past runs it now).")
    var at: String?

    @Option(help: "Refuse another job with this key while this one is pending or running, for at most --unique-for.")
    var uniqueKey: String?

    @Option(help: ArgumentHelp(
        "How long the unique lock lasts at most: 90s, 10m, 2h, 1d (at most 30d); by default until 24 h after the run time.",
        discussion: "The lock is released when the job finishes, dies or is cancelled. A job still waiting when it expires (a paused queue, a backlog, no worker) no longer holds it: another with the key is accepted."))
    var uniqueFor: String?

    func validate() throws {
        if delay != nil && at != nil { throw ValidationError("give --in or --at, not both") }
        if let id, let problem = EnvelopeRules.idProblem(id) { throw ValidationError(PersonalDataMask.mask("--id \(problem)")) }
        if let uniqueFor {
            guard uniqueKey != nil else { throw ValidationError("--unique-for needs --unique-key") }
            guard let seconds = DelayParser.seconds(uniqueFor), seconds > 0, seconds <= EnvelopeRules.maxUniqueFor else {
                throw ValidationError("--unique-for '\(uniqueFor)' is not a duration like 90s, 10m, 2h or 1d, at most 30d")
            }
        }
        if let delay, DelayParser.seconds(delay) == nil {
            if DecimalNumber.parse(delay) != nil { throw ValidationError("--in '\(delay)' needs a unit: \(delay)s, \(delay)m, \(delay)h or \(delay)d") }
            throw ValidationError("--in '\(delay)' is not a delay like 90s, 10m, 2h or 1d (at most 3650d)")
        }
        if let at {
            let date = try runAt(at)
            // As --in's bound: a date the envelope cannot carry was refused as "a run_at in milliseconds?".
            guard date.timeIntervalSinceNow <= 3650 * 86_400 else { throw ValidationError("--at '\(at)' is more than 3650 days ahead") }
            // A run time is Unix seconds from 0 (jobs/PROTOCOL.md, "Enqueue options"): 1900 for 1990 or 2900 ran the job at once.
            guard date.timeIntervalSince1970 >= 0 else { throw ValidationError("--at '\(at)' is before 1970: a run time is Unix seconds from 0") }
        }
    }

    /// `--at`'s instant, read strictly (``ISO8601Time``): Foundation's parser scheduled `2026-02-30` on 2 March,
    /// ignored trailing text and read an offset `+99:00` as +09:00. A refusal names the option (exit 64).
    private func runAt(_ text: String) throws -> Date {
        switch ISO8601Time.parse(text) {
        case .success(let date): return date
        case .failure(.notISO8601): throw ValidationError("--at '\(text)' is not an ISO 8601 time with an offset, like 2026-11-24T09:00:00+03:30")
        case .failure(.outOfRange(let reason)): throw ValidationError("--at '\(text)' is not a time: \(reason)")
        }
    }

    func run() async throws {
        let text = try payloadText()
        if let problem = JSONSyntaxCheck.problem(in: text) { throw usageFailure("--payload is not valid JSON: \(problem)") }
        guard let value = JSONValue.parse(Array(text.utf8)) else { throw usageFailure("--payload is not valid JSON") }
        let redis = try options.makeAdminClient()
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: options.namespace)
        try check(value, registry: JobCatalog.inspectionRegistry(jobs: jobs))

        // The id is made here, not in JobQueue.enqueue: an enqueue whose answer is lost (exit 4) or that too few replicas
        // confirmed (exit 1) names it, so the job can be looked for, and a unique one sent again with --id.
        let id = self.id ?? JobID.make()
        var enqueueOptions = EnqueueOptions(queue: queue, uniqueKey: uniqueKey, id: id)
        if let uniqueFor, let seconds = DelayParser.seconds(uniqueFor) { enqueueOptions.uniqueFor = .seconds(seconds) }
        if let delay, let seconds = DelayParser.seconds(delay) { enqueueOptions.runAt = Date().addingTimeInterval(seconds) }
        if let at { enqueueOptions.runAt = try runAt(at) }
        let result: EnqueueResult
        do {
            result = try await jobs.enqueue(type: type, payload: value, options: enqueueOptions)
        } catch let error as EnqueueError {
            throw usageFailure(error.message)
        } catch let error as RedisError where error.code == .timeout || error.code == .connectionLost {
            // Sent, and no answer: the job may be written. Exit 2 ("unreachable") invited a retry that enqueued it twice.
            printError("Redis \(error.endpoint) took the enqueue but gave no answer (\(error.message)): job \(id) may have been enqueued; \(resendAdvice(id))")
            throw ExitCode(4)
        } catch let error as RedisError where error.code == .notReplicated {
            // On the primary, unconfirmed: named, so that it can be found, or kept from running twice when sent again.
            printError("\(error.operatorLine) (job \(id)); \(resendAdvice(id))")
            throw ExitCode(1)
        } catch let error as RedisError {
            printError(error.operatorLine)
            // A refused write ran nothing (decision 0110: no longer hidden behind a WAIT verdict): 2, as unreachable.
            throw ExitCode(error.isUnreachable || error.refusesWrites ? 2 : 1)
        }
        // stdout holds the new job's id and nothing else: a script reads it there. A refusal goes to stderr (it was on
        // stdout, where a script took it for an id), and so does the warning, said only of a job that was written (a
        // refused one's "the job waits until one does" spoke of a job that is not there).
        switch result {
        case .enqueued(let id), .scheduled(let id):
            await warnUnlessServed(jobs)
            print(id)
        case .duplicate(let existing):
            // Masked as everywhere else a unique key is shown: keys often carry a phone number (`sms-0912…`).
            printRefusal("refused: job \(existing) with unique key '\(PersonalDataMask.mask(uniqueKey ?? ""))' is pending or running")
            throw ExitCode(3)
        case .alreadyEnqueued(let existing):
            printRefusal("refused: already enqueued as \(existing)")
            throw ExitCode(3)
        }
    }

    /// What to do about job `id` whose enqueue may or may not have stuck: look for it, and send it again only as the
    /// resend rules allow (a plain job sent twice runs twice).
    private func resendAdvice(_ id: String) -> String {
        let look = "check with `hoopoe job show \(id)` before enqueuing it again"
        return uniqueKey == nil
            ? "\(look) (sent again, even with --id \(id), a plain job that was written runs twice)"
            : "\(look), or send it again with --id \(id): while it is pending or running, that is this job, not a second one"
    }

    /// Warns on stderr when no live worker serves the queue, naming the quiet workers that list it (SIGTSTP: they fetch
    /// nothing new, ``ProcessRecord/serves(_:)``). Only a warning, after the job is written: its failure (an ACL without
    /// ZRANGE, a dropped connection) must not make the command fail, or a caller that retries on failure enqueues the
    /// job twice.
    private func warnUnlessServed(_ jobs: JobQueue) async {
        do {
            let (served, idle) = try await servers(jobs)
            if !served {
                let why = ProcessRecord.notFetchingNote(idle).map { "; \($0)" } ?? ""
                printError("warning: no live worker serves queue `\(queue)`\(why): the job waits until one does (hoopoe worker --queues \(queue))")
            }
        } catch {
            printError("warning: could not check that a worker serves queue `\(queue)`: \((error as? RedisError)?.operatorLine ?? "\(error)")")
        }
    }

    /// A refusal's line, on stderr as it was written on stdout (without `printError`'s `hoopoe:`): scripts match
    /// `refused: job <id>` to find the job that holds the key.
    private func printRefusal(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The payload text: the option itself, or the file it names after `@`.
    private func payloadText() throws -> String {
        guard payload.hasPrefix("@") else { return payload }
        let path = String(payload.dropFirst())
        guard let data = FileManager.default.contents(atPath: path) else { throw usageFailure("--payload: cannot read \(path)") }
        // Refused, not decoded with U+FFFD in place of each bad byte: that wrote a payload the file did not hold (a
        // Latin-1 name became "\u{FFFD}"), and the job ran with it.
        if let offset = Self.firstInvalidUTF8Offset(data) {
            let byte = String(format: "0x%02X", data[data.startIndex + offset])
            throw usageFailure(
                "--payload: \(path) is not UTF-8: the byte at offset \(offset) (counting from 0), \(byte), is not part of a UTF-8 character "
                    + "(save the file as UTF-8)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The offset of the first byte of `bytes` that is not part of a well-formed UTF-8 character, or nil when all are.
    static func firstInvalidUTF8Offset(_ bytes: some Collection<UInt8>) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// Refuses an unknown type (naming the closest known one) and a payload its handler could not decode.
    private func check(_ value: JSONValue, registry: JobRegistry) throws {
        guard registry.types.contains(type) else {
            let hint = EditDistance.suggestion(for: type, among: registry.types).map { "; did you mean \($0)?" } ?? ""
            throw usageFailure("unknown job type '\(type)'\(hint) (known: \(registry.types.joined(separator: ", ")))")
        }
        if let problem = registry.payloadProblem(type: type, payload: value.encoded()) {
            throw usageFailure("--payload: \(problem)")
        }
    }

    /// Whether a live worker serves this queue (its heartbeat lists it and it fetches), and the live workers that list
    /// it but fetch nothing new (quiet).
    private func servers(_ jobs: JobQueue) async throws -> (served: Bool, notFetching: [ProcessRecord]) {
        // A heartbeat older than the health check's limit (15 s) does not count as alive. Compared as doubles: a
        // heartbeat hash with `ttl` inf or 1e300 (written by hand) trapped in `Duration.seconds`, after the enqueue.
        let maxAge = HealthCheckOptions().heartbeatMaxAge.seconds
        let live = try await jobs.liveProcesses().filter { $0.age <= maxAge }
        return (live.contains { $0.serves(queue) }, ProcessRecord.notFetching(queue, among: live))
    }
}

/// `90s`, `10m`, `2h`, `1d`: ``DurationText``'s durations (its units and its ten-year limit), the unit required
/// (a bare number is refused: seconds or minutes?).
enum DelayParser {
    static func seconds(_ text: String) -> Double? {
        guard text.last?.isLetter == true, let duration = DurationText.parse(text) else { return nil }
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// A usage error found while running (the payload, the type): one `hoopoe:` line on stderr, and exit 64 like the
/// option errors ArgumentParser reports (without its usage text for the root command).
func usageFailure(_ message: String) -> ExitCode {
    printError(message)
    return ExitCode(64)
}
