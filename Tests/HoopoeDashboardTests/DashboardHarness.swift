import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeDashboard
import HoopoeJSON
import Hummingbird
import HummingbirdTesting
import Redis
import TestSupport

/// A dashboard on the shared test Redis, in a namespace of its own, driven through Hummingbird's router test client
/// (the real router and middleware, no socket).
struct DashboardHarness {
    let redis: RedisClient
    let jobs: JobQueue
    let dashboard: Dashboard
    let token = CSRFToken(value: "test-token-0123456789abcdef")

    /// The redaction rule `sendinblue.register` has in the worker: its password is a secret.
    static let redaction = PayloadRedaction(secretKeys: ["sendinblue.register": ["password"]])

    init(
        readOnly: Bool = false, password: String? = nil, pageSize: Int = 50, schedule: ScheduleSource = .none, basePath: BasePath = .root,
        redis: RedisClient? = nil, jobTypes: [String] = [], name: String = #function
    ) throws {
        self.redis = try redis ?? TestRedis.client()
        jobs = JobQueue(redis: self.redis, namespace: TestRedis.uniquePrefix(name))
        dashboard = Dashboard(
            jobs: jobs, redis: self.redis,
            configuration: DashboardConfiguration(
                readOnly: readOnly, password: password, redaction: Self.redaction, schedule: schedule, pageSize: pageSize, basePath: basePath,
                jobTypes: jobTypes),
            csrf: token)
    }

    /// A response's status, headers and body text.
    struct Reply {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let text: String
    }

    /// Sends one request to the dashboard's router.
    func send(_ method: HTTPRequest.Method, _ uri: String, form: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        let app = Application(router: dashboard.router())
        var fields = headers
        if form != nil { fields[.contentType] = "application/x-www-form-urlencoded" }
        let requestHeaders = fields
        return try await app.test(.router) { client in
            try await client.execute(uri: uri, method: method, headers: requestHeaders, body: form.map { ByteBuffer(string: $0) }) { response in
                Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
            }
        }
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> Reply { try await send(.get, uri, headers: headers) }

    /// Sets `fields` (counter → count) in the default queue's counters of today (UTC), and of tomorrow too when a run
    /// near midnight would read tomorrow's by the time the page is asked for.
    func setTodaysCounters(_ fields: [(String, String)]) async throws {
        let utc = DateFormatter()
        utc.locale = Locale(identifier: "en_US_POSIX")
        utc.timeZone = TimeZone(identifier: "UTC")
        utc.dateFormat = "yyyy-MM-dd"
        for day in Set([Date(), Date() + 30].map(utc.string(from:))) {
            _ = try await redis.send(RedisCommand("HSET", [jobs.keys("default").stats(day: day)] + fields.flatMap { [$0.0, $0.1] }))
        }
    }

    func post(_ uri: String, _ form: String) async throws -> Reply { try await send(.post, uri, form: form) }

    /// Puts a job straight into `queue`'s dead set, as the worker buries one (envelope with `dead_reason`).
    @discardableResult
    func bury(id: String = UUID().uuidString, type: String = "diag.record", queue: String = "default", payload: JSONValue = .object([:]), reason: String = "boom")
        async throws -> String
    {
        var envelope = JobEnvelope(id: id, type: type, queue: queue, enqueuedAt: Date().timeIntervalSince1970 - 60)
        envelope.payload = payload
        envelope.attempt = 3
        envelope.deadReason = reason
        envelope.diedAt = Date().timeIntervalSince1970
        let keys = jobs.keys(queue)
        _ = try await redis.pipeline([
            RedisCommand("ZADD", keys.dead, String(envelope.diedAt!), id),
            RedisCommand("HSET", keys.deadJobs, id, String(decoding: envelope.encoded(), as: UTF8.self)),
        ])
        return id
    }

    func deadCount(_ queue: String = "default") async throws -> Int { try await redis.send("ZCARD", jobs.keys(queue).dead).int ?? -1 }

    func streamLength(_ queue: String = "default") async throws -> Int { try await jobs.store.streamLength(queue: queue) }
}
