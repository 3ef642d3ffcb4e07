import ArgumentParser
import Foundation
import HoopoeCore
import HoopoeScheduler
import Redis

/// `hoopoe schedule list`: every task and when it runs next, in its own time zone.
struct ScheduleListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the schedule's tasks with their cron, time zone and next run.",
        discussion: """
            Reads the file only (no Redis): the same validation `hoopoe scheduler` does at start-up, the payloads \
            checked against the job types this build runs and against the size limit of a job included, so a file \
            the scheduler would refuse fails here with the task and key named (exit 1); a type this build does not \
            run is warned about, as the scheduler does. The size is measured in the namespace the scheduler runs \
            with (--namespace, else $HOOPOE_NAMESPACE, else hoopoe): it fills a payload's ${HOOPOE_NAMESPACE}, so a \
            longer one makes a larger job. TIME ZONE is the zone as the file names it (UTC stays UTC). \
            NEXT RUN is shown in the task's own time zone, the zone its cron fields mean; disabled tasks show "-".
            """
    )

    @Option(help: "The schedule file.")
    var schedule: String = ScheduleFile.defaultPath

    /// The namespace alone, not ``GlobalOptions``: this command reads no Redis, so `--redis-url` would mean nothing.
    /// Read as the scheduler reads it: it fills a payload's `${HOOPOE_NAMESPACE}`, and so enters each tick's size;
    /// measured in `hoopoe` always, a payload the scheduler refuses in a longer namespace was listed (exit 0) and the
    /// scheduler stopped with 78.
    @OptionGroup var namespaceOptions: NamespaceOptions

    var namespace: String { namespaceOptions.namespace }

    func run() async throws {
        let file: ScheduleFile
        do {
            file = try ScheduleFile.load(contentsOf: URL(fileURLWithPath: schedule))
        } catch {
            printError("\(schedule): \(error)")
            throw ExitCode(1)
        }
        // The payload check the scheduler does next (ScheduleTypeCheck): without it a file this command accepted could
        // still stop the scheduler with exit 78. The job types' decoders need no Redis: this client never connects.
        let redis = RedisClient(configuration: RedisConfiguration())
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: namespace)
        let typeCheck = ScheduleTypeCheck.check(file.tasks, registry: JobCatalog.inspectionRegistry(jobs: jobs), jobs: jobs)
        for warning in typeCheck.warnings { printError("\(schedule): \(warning)") }
        guard typeCheck.errors.isEmpty else {
            for error in typeCheck.errors { printError("\(schedule): \(error)") }
            throw ExitCode(1)
        }
        if file.tasks.isEmpty {
            print("No tasks in \(schedule).")
            return
        }
        // The zones as the file names them: a zone's own identifier may be another name of it (`UTC` is `GMT`). Read
        // again for that: a file changed in between shows its zones' identifiers.
        let written = (try? String(contentsOfFile: schedule, encoding: .utf8)).map(ScheduleFile.writtenTimeZones(yaml:)) ?? [:]
        let now = Date()
        var table = TextTable("TASK", "CRON", "TIME ZONE", "ENABLED", "TYPE", "QUEUE", "NEXT RUN")
        for task in file.tasks {
            let next = task.enabled ? task.nextTick(after: now).map { Self.format($0, in: task.timeZone, now: now) } ?? "never" : "-"
            let zone = Self.zoneName(of: task, written: written[task.name])
            table.add(task.name, task.cron.description, zone, task.enabled ? "yes" : "no", task.type, task.queue, next)
        }
        // Masked as the messages above are: a name, a type or a queue may hold a phone number (the mask keeps the
        // length, so the columns stay aligned).
        print(PersonalDataMask.mask(table.text))
    }

    /// The TIME ZONE column: the zone as the file wrote it when it names the task's zone, else the zone's identifier
    /// (the default zone's, for a task that names none).
    static func zoneName(of task: ScheduledTask, written: String?) -> String {
        guard let written, TimeZone(identifier: written) == task.timeZone else { return task.timeZone.identifier }
        return written
    }

    /// `2026-11-24 09:00:00 +03:30 (in 5h)`: wall-clock time in the task's zone, with the offset.
    static func format(_ date: Date, in zone: TimeZone, now: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        return "\(formatter.string(from: date)) (in \(TimeText.span(date.timeIntervalSince(now))))"
    }
}
