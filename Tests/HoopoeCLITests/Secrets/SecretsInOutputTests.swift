import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// No secret, no full phone number and no full email address in anything Hoopoe prints (issue 11): every job type runs through a real
/// `hoopoe worker` (beside a `hoopoe scheduler`) at `LOG_LEVEL=trace` with JSON logs, against the local fake providers
/// and a Redis that requires a password; then `job show`, `dead show`, `dead list` and `health-check` print what they
/// know. All of it is
/// searched for the Redis password, every provider key, the users' passwords, Brevo child auth keys and the phone
/// numbers and email addresses of the payloads, in plain text, hex (AsyncHTTPClient's `trace` spelling of a body), Base64 and
/// percent-encoding.
@Suite(.serialized) struct SecretsInOutputTests {
    static let userPassword = "Us3r-Secret-Passw0rd!"
    static let childAuthKey = "xkeysib-child-payload-key-77"
    static let phones = ["09121234567", "09351112233"]

    @Test func noSecretOrPhoneReachesAnyOutput() async throws {
        let redisPassword = "redis-pw-" + UUID().uuidString.prefix(12)
        let server = try RedisServer(arguments: ["--requirepass", redisPassword])
        let redisURL = "redis://:\(redisPassword)@127.0.0.1:\(server.port)/0"
        let namespace = "secrets"
        let redis = try RedisClient(url: redisURL)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: namespace)

        let fakes = try ChildProcess(BuiltProducts.hoopoe, ["dev", "fake-providers", "--port", "0"], environment: ["LOG_LEVEL": "warning"])
        defer { fakes.signal(SIGKILL) }
        let fake = try await FakeProviderSettings.read(fakes)
        let root = BuiltProducts.projectRoot
        let environment: [String: String] = [
            "REDIS_URL": redisURL, "HOOPOE_NAMESPACE": namespace, "LOG_LEVEL": "trace", "LOG_FORMAT": "json",
            "KAVENEGAR_API_KEY": fake["KAVENEGAR_API_KEY"]!, "KAVENEGAR_BASE_URL": fake["KAVENEGAR_BASE_URL"]!,
            "IPPANEL_API_KEY": fake["IPPANEL_API_KEY"]!, "IPPANEL_BASE_URL": fake["IPPANEL_BASE_URL"]!, "IPPANEL_FROM_NUMBER": "+983000505",
            "BREVO_API_KEY": fake["BREVO_API_KEY"]!, "BREVO_BASE_URL": fake["BREVO_BASE_URL"]!,
            "RECEIPT_BASE_URL": "https://kamva.ir/email/receipt",
            "SMS_TEMPLATES_FILE": root.appendingPathComponent("jobs/sms_templates.yaml").path,
            // The SMS below must reach the providers whatever the hour in Tehran: in the default quiet hours (22-08,
            // 18:30-04:30 UTC) both sms.send jobs were only deferred, and no phone number went through the HTTP client.
            "SMS_QUIET_HOURS": "off",
        ]
        var outputs: [(label: String, text: String)] = []
        func hoopoe(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            let process = try ChildProcess(BuiltProducts.hoopoe, arguments, environment: environment)
            let status = await process.wait(timeout: .seconds(30))
            outputs.append(("hoopoe \(arguments.joined(separator: " "))", process.output))
            return (status ?? -1, process.output)
        }

        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--concurrency", "20"], environment: environment)
        #expect(try await eventually(timeout: .seconds(15)) { try await jobs.liveProcesses().contains { $0.kind == "worker" } }, "\(worker.output)")
        // The project's schedule, as deployed (its per-minute canary and the domain tasks), under the same settings.
        let scheduler = try ChildProcess(
            BuiltProducts.hoopoe, ["scheduler", "--schedule", root.appendingPathComponent("jobs/schedule.yaml").path], environment: environment)
        defer { scheduler.signal(SIGKILL) }

        // Every job type, from its sample, through `hoopoe enqueue`.
        let samples = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("jobs/samples").path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(samples.count >= 14)
        for sample in samples {
            let type = String(sample.dropLast(5))
            let (status, output) = try await hoopoe(["enqueue", type, "--payload", "@" + root.appendingPathComponent("jobs/samples/\(sample)").path])
            #expect(status == 0, "\(type): \(output)")
        }
        // More of the secrets and numbers: a registration with its own password, an SMS and a gift to a second phone.
        let registration: JSONValue = [
            "user_id": "43", "email": "sara@example.com", "first_name": "Sara", "last_name": "K", "company": "Kamva",
            "password": .string(Self.userPassword), "language": "en", "plan": ["id": "3", "credit": ["email": 100, "sms": 10], "ip": "123.65.8.22"],
        ]
        #expect(try await hoopoe(["enqueue", "sendinblue.register", "--payload", registration.text]).status == 0)
        let sms: JSONValue = [
            "message_id": "test:secrets:1", "phone": .string(Self.phones[1]), "template": "expiration_reminder", "user_id": "43",
            "purpose": "reminder.expiration", "tokens": ["token10": "Sara", "token": "3", "token2": "1403/10/12", "token3": "https://kamva.ir/r/1"],
        ]
        #expect(try await hoopoe(["enqueue", "sms.send", "--payload", sms.text]).status == 0)

        // Jobs that wait (scheduled, and ready in a queue no worker serves), for `job show`.
        let threshold: JSONValue = [
            "user_id": 43, "threshold_id": 8, "threshold": 500, "phone": .string(Self.phones[1]), "first_name": "Sara",
            "auth_key": .string(Self.childAuthKey),
        ]
        let scheduledID = try await hoopoe(["enqueue", "sendinblue.register", "--payload", registration.text, "--in", "1h"]).output.lastLine
        let parkedID = try await hoopoe(["enqueue", "credit.threshold.set", "--payload", threshold.text, "--queue", "parked"]).output.lastLine
        for id in [scheduledID, parkedID] {
            #expect(try await hoopoe(["job", "show", id]).status == 0, "job show \(id)")
            #expect(try await hoopoe(["job", "show", id, "--json"]).status == 0)
        }

        // Jobs that die with their secrets and phones in the payload (their payloads do not fit their handlers).
        let unfit = [
            ("sendinblue.register", registration.setting("email", 5)), ("credit.threshold.set", threshold.setting("threshold_id", "not a number")),
            ("sms.send", sms.setting("user_id", [1])),
        ]
        var deadIDs: [String] = []
        for (type, payload) in unfit {
            deadIDs.append(try #require(try await jobs.enqueue(type: type, payload: payload).createdID))
        }

        // Wait for the registrations (a Brevo child created: its auth key went through the HTTP client) and the dead.
        let registered = try await eventually(timeout: .seconds(60)) {
            let events = try await redis.send("XRANGE", "\(namespace):events", "-", "+").array ?? []
            let types = events.compactMap { $0.array?.last?.array }.map { fields in fields.compactMap(\.string) }
            return types.filter { $0.contains("sendinblue.registered") }.count >= 2
        }
        #expect(registered, "no sendinblue.registered events; worker: \(worker.output.suffix(4000))")
        // Both SMS (the sample's and the second phone's) went out through a provider: their phone numbers and the
        // provider keys went through the HTTP client, at trace level, not only deferred to the end of quiet hours.
        let smsIDs: Set<String> = ["reminder.expiration:42:1735689600:3", "test:secrets:1"]
        var sentBy: [String: String] = [:]  // message id -> provider
        let smsSent = try await eventually(timeout: .seconds(60)) {
            let events = try await redis.send("XRANGE", "\(namespace):events", "-", "+").array ?? []
            for entry in events {
                let items = entry.array?.last?.array?.compactMap(\.string) ?? []
                var fields: [String: String] = [:]
                for index in stride(from: 0, to: items.count - 1, by: 2) { fields[items[index]] = items[index + 1] }
                guard fields["type"] == "sms.sent", let data = fields["data"].flatMap({ JSONValue.parse(Array($0.utf8)) }),
                    let id = data["message_id"]?.stringValue else { continue }
                sentBy[id] = data["provider"]?.stringValue ?? ""
            }
            return smsIDs.isSubset(of: sentBy.keys)
        }
        #expect(smsSent, "sms.sent for \(smsIDs.subtracting(sentBy.keys).sorted()) missing (sent: \(sentBy)); worker: \(worker.output.suffix(4000))")
        #expect(smsIDs.allSatisfy { ["kavenegar", "ippanel"].contains(sentBy[$0] ?? "") }, "sent through Kavenegar or IPPanel: \(sentBy)")
        #expect(!worker.output.contains("quiet hours"), "an SMS was deferred to the end of quiet hours: \(worker.output.suffix(4000))")
        for id in deadIDs {
            #expect(try await eventually(timeout: .seconds(30)) { try await jobs.deadJobs(queue: "default", limit: 100).contains { $0.id == id } }, "\(id) not dead")
            #expect(try await hoopoe(["dead", "show", id]).status == 0)
            #expect(try await hoopoe(["dead", "show", id, "--json"]).status == 0)
        }
        var drained = ""
        #expect(try await eventually(timeout: .seconds(30)) {
            let info = try await jobs.info(queue: "default")
            drained = "ready \(info.ready), in flight \(info.inFlight), scheduled \(info.scheduled), dead \(info.dead)"
            return info.ready == 0 && info.inFlight == 0
        }, "the default queue did not drain: \(drained); worker: \(worker.output.suffix(4000))")
        // Each command ran and printed what it knows (a failing one printed an error, not the data searched below).
        for arguments in [["dead", "list"], ["dead", "list", "--json"], ["queues"], ["health-check", "--schedule", noSchedule],
                          ["health-check", "--schedule", noSchedule, "--json"], ["ping"]] {
            let (status, output) = try await hoopoe(arguments)
            #expect(status == 0, "hoopoe \(arguments.joined(separator: " ")) exited \(status): \(output)")
        }

        worker.signal(SIGTERM)
        scheduler.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(40)) == 0)
        #expect(await scheduler.wait(timeout: .seconds(10)) == 0, "\(scheduler.output)")
        outputs.append(("the worker's log", worker.output))
        outputs.append(("the scheduler's log", scheduler.output))
        // Events are an output too (other services read them): every field of every entry, job.dead's reasons included.
        let events = try await redis.send("XRANGE", "\(namespace):events", "-", "+").array ?? []
        #expect(events.count > 3, "the jobs wrote events")
        outputs.append(("the events stream", events.map { "\($0)" }.joined(separator: "\n")))

        // The run did what it claims: JSON lines below info were written (only AsyncHTTPClient writes `trace` lines,
        // and it is silenced), provider calls were made and logged.
        #expect(worker.output.contains(#""level":"debug""#), "no debug line: LOG_LEVEL=trace was not in effect")
        #expect(worker.output.contains("provider request") && worker.output.contains("provider response"))
        #expect(outputs.contains { $0.label.hasPrefix("hoopoe job show") && $0.text.contains("credit.threshold.set") })

        var needles = SecretNeedles()
        needles.add("the Redis password", redisPassword)
        for key in ["KAVENEGAR_API_KEY", "IPPANEL_API_KEY", "BREVO_API_KEY"] { needles.add(key, fake[key]!) }
        needles.add("a Brevo child auth key", "xkeysib-child-")
        needles.add("the Brevo v2 key", "fake-v2-key")
        needles.add("a Brevo auth key from a payload", Self.childAuthKey)
        needles.add("the sample user's password", "Pa55w0rd65")
        needles.add("a user's password", Self.userPassword)
        for phone in Self.phones {
            needles.add("a phone number", String(phone.dropFirst()))  // 0912…, +98912…, 98912…: all contain it
        }
        // Email addresses are personal data too: the samples' and the registration's (job show, dead show, logs).
        for email in ["sara@example.com", "josh.cruise@example.com"] { needles.add("an email address", email) }
        for (label, text) in outputs {
            let hits = needles.found(in: text)
            #expect(hits.isEmpty, "\(label) shows \(hits.joined(separator: ", "))")
        }
    }
}

extension JSONValue {
    /// A copy of this object with `key` set to `value`.
    fileprivate func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = value
        return .object(members)
    }

    /// Compact JSON text.
    fileprivate var text: String { String(decoding: encoded(), as: UTF8.self) }
}

extension String {
    /// The last non-empty line (a printed job id).
    fileprivate var lastLine: String {
        split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
    }
}
