import ArgumentParser
import Foundation
import HoopoeCore
import HoopoeJSON
import Redis

/// `hoopoe enqueue`: puts one job on a queue, now or later.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Enqueue one job, now or later.",
        discussion: """
            Examples:
              hoopoe enqueue diag.record --payload '{"key":"k","member":"m"}'
              hoopoe enqueue sms.send --payload @jobs/payloads/sms.send.json --in 10m
              hoopoe enqueue gift.expire --payload '{"user_gift_id":7}' --at 2026-11-24T09:00:00+03:30 --unique-key gift-7
            Prints the job id. Exit 0 when enqueued, 3 when refused as a duplicate (--unique-key).
            """
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The job type, e.g. sms.send.")
    var type: String

    @Option(help: "The payload: JSON text, or @path to read it from a file.")
    var payload: String = "{}"

    @Option(help: "The queue.")
    var queue: String = "default"

    @Option(name: .customLong("in"), help: "Run after a delay: 90s, 10m, 2h, 1d.")
    var delay: String?

    @Option(help: "Run at a time, ISO 8601 with an offset: 2026-11-24T09:00:00+03:30.")
    var at: String?

    @Option(help: "Refuse this job while another with the same key is pending or running.")
    var uniqueKey: String?

    func validate() throws {
        if delay != nil && at != nil { throw ValidationError("give --in or --at, not both") }
        if let delay, DelayParser.seconds(delay) == nil { throw ValidationError("--in '\(delay)' is not a delay like 90s, 10m, 2h or 1d") }
        if let at, ISO8601DateFormatter().date(from: at) == nil {
            throw ValidationError("--at '\(at)' is not an ISO 8601 time with an offset, like 2026-11-24T09:00:00+03:30")
        }
    }

    func run() async throws {
        let text: String
        if payload.hasPrefix("@") {
            let path = String(payload.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--payload: cannot read \(path)") }
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = payload
        }
        guard let value = JSONValue.parse(Array(text.utf8)) else { throw ValidationError("--payload is not JSON: \(text.prefix(80))") }
        let redis = try options.makeRedisClient()
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: options.namespace)
        var enqueueOptions = EnqueueOptions(queue: queue, uniqueKey: uniqueKey)
        if let delay, let seconds = DelayParser.seconds(delay) { enqueueOptions.runAt = Date().addingTimeInterval(seconds) }
        if let at { enqueueOptions.runAt = ISO8601DateFormatter().date(from: at) }
        do {
            switch try await jobs.enqueue(type: type, payload: value, options: enqueueOptions) {
            case .enqueued(let id): print(id)
            case .scheduled(let id): print(id)
            case .duplicate(let existing):
                print("refused: job \(existing) with unique key '\(uniqueKey ?? "")' is pending or running")
                throw ExitCode(3)
            case .alreadyEnqueued(let existing):
                print("refused: already enqueued as \(existing)")
                throw ExitCode(3)
            }
        } catch let error as EnqueueError {
            throw ValidationError(error.message)
        }
    }
}

/// `90s`, `10m`, `2h`, `1d`, or plain seconds.
enum DelayParser {
    static func seconds(_ text: String) -> Double? {
        guard let last = text.last else { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = units[last], let value = Double(text.dropLast()), value >= 0 { return value * unit }
        if let value = Double(text), value >= 0 { return value }
        return nil
    }
}
