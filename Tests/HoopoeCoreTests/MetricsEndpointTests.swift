import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe worker --metrics-port`: the output parses with Prometheus's own text-format parser
/// (prometheus_client), and the counters move when jobs run.
@Suite struct MetricsEndpointTests {
    /// Scrapes `/metrics` and returns `hoopoe_jobs_total` samples as "type/outcome" → value.
    private func scrape(port: Int) async throws -> [String: Double] {
        let parse = """
            import json, sys, urllib.request
            from prometheus_client.parser import text_string_to_metric_families
            text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
            out = {"_families": [f.name for f in text_string_to_metric_families(text)]}
            for family in text_string_to_metric_families(text):
                for s in family.samples:
                    if s.name == "hoopoe_jobs_total":
                        out[s.labels["type"] + "/" + s.labels["outcome"]] = s.value
                    if s.name == "hoopoe_job_duration_seconds_count":
                        out["runs:" + s.labels["type"]] = s.value
            print(json.dumps(out))
            """
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", parse, String(port)])
        guard await child.wait(timeout: .seconds(20)) == 0 else { throw TestSupportError("scrape failed: \(child.output)") }
        let object = try JSONSerialization.jsonObject(with: Data(child.output.utf8)) as? [String: Any] ?? [:]
        var result: [String: Double] = [:]
        for (key, value) in object { if let number = value as? Double { result[key] = number } }
        if let families = object["_families"] as? [String] { for name in families { result["family:" + name] = 1 } }
        return result
    }

    @Test func prometheusOutputParsesAndCountersMove() async throws {
        let h = try EngineHarness()
        let port = try RedisServer.freePort()
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--metrics-port", String(port)], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
        defer { worker.signal(SIGKILL) }
        var before: [String: Double] = [:]
        #expect(try await h.eventually { (before = (try? await scrape(port: port)) ?? [:]); return !before.isEmpty }, "\(worker.output)")
        #expect(before["diag.record/processed"] == nil)

        let key = "\(h.namespace):m"
        _ = try await h.jobs.enqueueBatch((0..<25).map { (type: "diag.record", payload: h.diag(key: key, member: "m\($0)"), options: EnqueueOptions()) })
        try await h.jobs.enqueue(type: "no.such.type", payload: .object([:]))
        #expect(try await h.eventually { try await h.recorded(key).count == 25 })
        var after: [String: Double] = [:]
        #expect(try await h.eventually {
            after = try await scrape(port: port)
            return after["diag.record/processed"] == 25 && after["(unknown)/dead"] == 1
        }, "\(after)")
        // A type this worker does not run is labelled `(unknown)`, not by its name (a series set for every typo'd type,
        // kept until a restart), and a job buried before its handler ran is no run of 0 s in the duration histogram.
        #expect(after["no.such.type/dead"] == nil && after["runs:(unknown)"] == nil && after["runs:no.such.type"] == nil, "\(after)")
        #expect(after["runs:diag.record"] == 25, "\(after)")
        #expect(after["family:hoopoe_job_duration_seconds"] == 1)
        #expect(after["family:hoopoe_queue_depth"] == 1 && after["family:hoopoe_jobs_in_flight"] == 1)
    }

    /// A metrics port another process holds: the worker stops and says why. (It used to run on without its endpoint,
    /// print nothing and not hear SIGTERM: the endpoint's failure cancelled the service group, which the worker does
    /// not answer.)
    @Test func aTakenPortStopsTheWorkerWithItsError() async throws {
        let h = try EngineHarness()
        let holder = try ChildProcess("/usr/bin/env", [
            "python3", "-c", "import socket, time; s = socket.socket(); s.bind(('0.0.0.0', 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(120)",
        ])
        defer { holder.signal(SIGKILL) }
        var port: Int?
        #expect(try await h.eventually { port = Int(holder.output.trimmingCharacters(in: .whitespacesAndNewlines)); return port != nil })
        let key = "\(h.namespace):taken"
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: "waits"))
        let taken = try #require(port)
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--metrics-port", String(taken)], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "info",
        ])
        defer { worker.signal(SIGKILL) }
        let status = await worker.wait(timeout: .seconds(30))
        #expect(status == 1, "the worker should have stopped with status 1 (README): \(worker.output)")
        // The flag and the port, not NIO's `bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)`.
        #expect(worker.output.contains("--metrics-port \(taken) is already in use"), "\(worker.output)")
        // Nothing said or done as if it served: it logged "metrics on" before the bind, then started serving its queues.
        #expect(!worker.output.contains("metrics on") && !worker.output.contains("serving"), "\(worker.output)")
        #expect(try await h.recorded(key).isEmpty, "the waiting job was not taken")
        #expect(try await h.jobs.info(queue: "default").ready == 1, "the waiting job still waits")
    }

    /// Every family of the scrape, `name` → (type, help), and every sample, `name{label=value,...}` → value, as
    /// prometheus_client's parser reads them; plus the metric names that lack a `# HELP` or `# TYPE` line in the text.
    private func scrapeAll(port: Int) async throws -> (families: [String: (type: String, help: String)], samples: [String: Double], undocumented: [String]) {
        let parse = """
            import json, re, sys, urllib.request
            from prometheus_client.parser import text_string_to_metric_families
            text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
            families, samples = {}, {}
            for family in text_string_to_metric_families(text):
                families[family.name] = [family.type, family.documentation]
                for s in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()) if k != "le")
                    if "le" not in s.labels:
                        samples[f"{s.name}{{{labels}}}"] = s.value
            helped = set(re.findall(r"^# HELP (\\S+) \\S", text, re.M))
            typed = set(re.findall(r"^# TYPE (\\S+) \\S", text, re.M))
            names = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", text, re.M))
            base = lambda n: re.sub(r"_(bucket|sum|count)$", "", n) if re.sub(r"_(bucket|sum|count)$", "", n) in typed else n
            undocumented = sorted({base(n) for n in names} - (helped & typed))
            print(json.dumps({"families": families, "samples": samples, "undocumented": undocumented}))
            """
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", parse, String(port)])
        guard await child.wait(timeout: .seconds(20)) == 0 else { throw TestSupportError("scrape failed: \(child.output)") }
        let object = try JSONSerialization.jsonObject(with: Data(child.output.utf8)) as? [String: Any] ?? [:]
        var families: [String: (String, String)] = [:]
        for (name, value) in object["families"] as? [String: [String]] ?? [:] where value.count == 2 { families[name] = (value[0], value[1]) }
        let samples = (object["samples"] as? [String: Double]) ?? [:]
        return (families, samples, object["undocumented"] as? [String] ?? ["(unparsed)"])
    }

    /// Every metric has `# HELP` and `# TYPE`; the queue gauges (ready, in flight, scheduled, dead, latency, paused) are
    /// read from Redis for the scrapes: a job enqueued a second before a scrape is in it.
    @Test func everyMetricIsDocumentedAndQueueGaugesAreReadAtEachScrape() async throws {
        let h = try EngineHarness()
        let port = try RedisServer.freePort()
        _ = try await h.jobs.pause(queue: "mail")
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default,mail", "--metrics-port", String(port)], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
        defer { worker.signal(SIGKILL) }
        let key = "\(h.namespace):gauges"
        _ = try await h.jobs.enqueueBatch((0..<3).map { (type: "diag.record", payload: h.diag(key: key, member: "m\($0)"), options: EnqueueOptions(queue: "mail")) })
        _ = try await h.jobs.enqueueBatch((0..<2).map { _ in (type: "diag.record", payload: h.diag(key: key, member: "later"), options: EnqueueOptions(runAt: Date() + 3600)) })
        try await h.jobs.enqueue(type: "no.such.type", payload: .object([:]))
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 1 }, "\(worker.output)")

        var scrape = (families: [String: (type: String, help: String)](), samples: [String: Double](), undocumented: [String]())
        #expect(try await h.eventually { (scrape = (try? await scrapeAll(port: port)) ?? scrape); return !scrape.families.isEmpty }, "\(worker.output)")
        #expect(scrape.undocumented.isEmpty, "metrics without # HELP or # TYPE: \(scrape.undocumented)")
        for (name, family) in scrape.families {
            #expect(!family.help.isEmpty && family.type != "unknown", "\(name): \(family)")
        }
        #expect(scrape.families["hoopoe_queue_depth"]?.type == "gauge" && scrape.families["hoopoe_jobs"]?.type == "counter")
        #expect(scrape.samples["hoopoe_queue_depth{queue=mail}"] == 3, "\(scrape.samples)")
        #expect(scrape.samples["hoopoe_queue_paused{queue=mail}"] == 1 && scrape.samples["hoopoe_queue_paused{queue=default}"] == 0)
        #expect(scrape.samples["hoopoe_queue_scheduled{queue=default}"] == 2 && scrape.samples["hoopoe_queue_dead{queue=default}"] == 1)
        #expect(scrape.samples["hoopoe_queue_in_flight{queue=default}"] == 0 && scrape.samples["hoopoe_queue_metrics_up{}"] == 1)
        #expect((scrape.samples["hoopoe_queue_latency_seconds{queue=mail}"] ?? 0) > 0, "the paused queue's jobs wait")

        // Fresh: what is enqueued now is in the next scrape a second on (the scrapes of a second share one read).
        _ = try await h.jobs.enqueueBatch((3..<5).map { (type: "diag.record", payload: h.diag(key: key, member: "m\($0)"), options: EnqueueOptions(queue: "mail")) })
        try await Task.sleep(for: .seconds(1.2))
        #expect(try await scrapeAll(port: port).samples["hoopoe_queue_depth{queue=mail}"] == 5)
        _ = try await h.jobs.resume(queue: "mail")
        #expect(try await h.eventually { try await h.recorded(key).count == 5 })
        try await Task.sleep(for: .seconds(1.2))
        let after = try await scrapeAll(port: port).samples
        #expect(after["hoopoe_queue_depth{queue=mail}"] == 0 && after["hoopoe_queue_paused{queue=mail}"] == 0, "\(after)")
    }

    /// Many scrapes at a time, each timed: `count` scrapes on `parallel` threads; the seconds the slowest took and the
    /// whole burst took, and how many answered 200.
    private func scrapeBurst(port: Int, count: Int, parallel: Int) async throws -> (ok: Int, slowest: Double, seconds: Double) {
        let burst = """
            import json, sys, time, urllib.request
            from concurrent.futures import ThreadPoolExecutor
            port, count, parallel = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
            def one(_):
                started = time.monotonic()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=20) as r:
                        ok = r.status == 200 and b"hoopoe_queue_depth" in r.read()
                except OSError:
                    ok = False
                return ok, time.monotonic() - started
            started = time.monotonic()
            with ThreadPoolExecutor(parallel) as pool:
                results = list(pool.map(one, range(count)))
            print(json.dumps({"ok": sum(1 for ok, _ in results if ok), "slowest": max(s for _, s in results), "seconds": time.monotonic() - started}))
            """
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", burst, String(port), String(count), String(parallel)])
        guard await child.wait(timeout: .seconds(120)) == 0 else { throw TestSupportError("burst failed: \(child.output)") }
        let object = try JSONSerialization.jsonObject(with: Data(child.output.utf8)) as? [String: Any] ?? [:]
        return (object["ok"] as? Int ?? 0, object["slowest"] as? Double ?? .infinity, object["seconds"] as? Double ?? .infinity)
    }

    /// How many times Redis ran `command` since its statistics were reset (`INFO commandstats`).
    private func calls(_ command: String, on redis: RedisClient) async throws -> Int {
        let info = try await redis.send("INFO", "commandstats").string ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_\(command):calls=") }
        return line.flatMap { Int($0.dropFirst("cmdstat_\(command):calls=".count).prefix { $0.isNumber }) } ?? 0
    }

    /// Scrapes that come together share one read of Redis (the queue gauges' `XLEN` counts the reads: a worker runs
    /// none of its own). Each scrape ran its own, an `HGETALL` and a six-command pipeline a queue: thousands of
    /// pipelined scrapes loaded Redis and the connections the worker's jobs share. A private `redis-server`: its
    /// statistics count this worker's calls only.
    @Test func scrapesTogetherShareOneReadOfRedis() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let port = try RedisServer.freePort()
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default", "--metrics-port", String(port)], environment: [
            "REDIS_URL": server.url, "HOOPOE_NAMESPACE": TestRedis.uniquePrefix("metrics-burst"), "LOG_LEVEL": "warning",
        ])
        defer { worker.signal(SIGKILL) }
        #expect(try await eventually { (try? await scrapeAll(port: port))?.samples["hoopoe_queue_metrics_up{}"] == 1 }, "\(worker.output)")
        _ = try await redis.send("CONFIG", "RESETSTAT")
        try await Task.sleep(for: .seconds(1.2))  // past the last read's second: the burst makes its own

        let burst = try await scrapeBurst(port: port, count: 400, parallel: 40)
        let reads = try await calls("xlen", on: redis)
        #expect(burst.ok == 400, "\(burst) \(worker.output)")
        // One read a second at most, with a read under way shared: a second's scrapes and its neighbours'.
        #expect(reads >= 1 && reads <= Int(burst.seconds) + 2, "\(reads) reads of Redis for 400 scrapes in \(burst.seconds) s")
    }

    /// Redis stopped: a scrape arrives within 3 s (before a Prometheus's `scrape_timeout` loses it) and says
    /// `hoopoe_queue_metrics_up 0`, the queue gauges keeping their last values. Each one took the client's reconnect
    /// window (~5.5 s) and a Prometheus with a shorter timeout lost the whole scrape, the 0 never recorded.
    @Test func aScrapeWhileRedisIsDownArrivesInTimeSayingSo() async throws {
        let server = try RedisServer()
        let port = try RedisServer.freePort()
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default", "--metrics-port", String(port)], environment: [
            "REDIS_URL": server.url, "HOOPOE_NAMESPACE": TestRedis.uniquePrefix("metrics-down"), "LOG_LEVEL": "warning",
        ])
        defer { worker.signal(SIGKILL) }
        #expect(try await eventually { (try? await scrapeAll(port: port))?.samples["hoopoe_queue_metrics_up{}"] == 1 }, "\(worker.output)")

        server.kill()
        try await Task.sleep(for: .seconds(1.2))  // past the last read's second
        // One after another, each timed by the client: the first starts a read, the next ones find it under way (a read
        // with Redis away lasts the reconnect window).
        for round in 0..<3 {
            let scrape = try await timedScrape(port: port)
            #expect(scrape.seconds < 3, "scrape \(round) took \(scrape.seconds) s")
            #expect(scrape.samples["hoopoe_queue_metrics_up{}"] == 0, "scrape \(round): \(scrape.samples)")
            #expect(scrape.samples["hoopoe_queue_depth{queue=default}"] == 0, "the last values kept: \(scrape.samples)")
        }
        // As many at once as the endpoint serves: none waits past the bound either.
        let burst = try await scrapeBurst(port: port, count: 32, parallel: 32)
        #expect(burst.ok == 32 && burst.slowest < 3, "\(burst)")
    }

    /// One scrape, timed by the client from its connect to the body's end, and its samples as `name{label=value,...}`.
    private func timedScrape(port: Int) async throws -> (seconds: Double, samples: [String: Double]) {
        let scrape = """
            import json, re, sys, time, urllib.request
            started = time.monotonic()
            text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=20).read().decode()
            seconds = time.monotonic() - started
            found = re.findall(r'^(hoopoe_[a-z_]+)(?:\\{([^}]*)\\})? (\\S+)$', text, re.M)
            samples = {name + "{" + labels.replace('\"', '') + "}": float(value) for name, labels, value in found}
            print(json.dumps({"seconds": seconds, "samples": samples}))
            """
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", scrape, String(port)])
        guard await child.wait(timeout: .seconds(30)) == 0 else { throw TestSupportError("scrape failed: \(child.output)") }
        let object = try JSONSerialization.jsonObject(with: Data(child.output.utf8)) as? [String: Any] ?? [:]
        return (object["seconds"] as? Double ?? .infinity, object["samples"] as? [String: Double] ?? [:])
    }
}
