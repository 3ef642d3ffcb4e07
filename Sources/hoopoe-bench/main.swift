// hoopoe-bench: the measurements behind `make bench`. Not shipped; prints one JSON object a line.
#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
let url = getenv("REDIS_URL").map { String(cString: $0) } ?? "redis://127.0.0.1:6379/0"
let count = arguments.count > 2 ? Int(arguments[2]) : nil

let usage = "usage: hoopoe-bench redis [N] | engine [delayed-jobs] | enqueue [N] | latency RATE [SECONDS] [separate] | fill N queue,queue,... | memory [N]"

/// Runs the measurement the arguments name. A failure (Redis not reachable, a reply not understood) ends the process
/// with one line naming it and status 1, not a crash report.
func run() async throws {
    switch arguments.dropFirst().first ?? "redis" {
    case "redis":
        for result in try await RedisBenchmark.run(url: url, operations: count ?? 200_000, clients: 50) {
            print("{\"name\": \"\(result.name)\", \"ops\": \(result.operations), \"seconds\": \(result.seconds), \"per_second\": \(Int(result.perSecond))}")
        }
    case "engine":
        let enqueue = try await EngineBenchmark.batchEnqueue(url: url, jobs: 200_000)
        print("{\"name\": \"batch enqueue (1000 a round trip)\", \"per_second\": \(Int(enqueue))}")
        // Open-loop pacing, latency from each job's scheduled send time (EngineBenchmark.latency).
        for rate in [1000, 10_000] {
            let latency = try await EngineBenchmark.latency(url: url, rate: rate, seconds: 5)
            print("{\"name\": \"enqueue to start at \(rate) jobs/s\", \"rate\": \(rate), \"p50_ms\": \(latency.p50), \"p99_ms\": \(latency.p99), \"max_ms\": \(latency.max), \"jobs\": \(latency.count), \"expected\": \(rate * 5), \"max_send_lag_ms\": \(latency.maxSendLag), \"p99_after_enqueue_ms\": \(latency.p99AfterEnqueue)}")
        }
        let promotion = try await EngineBenchmark.promotion(url: url, jobs: count ?? 1_000_000)
        print("{\"name\": \"promotion of due delayed jobs\", \"per_second\": \(Int(promotion))}")
    case "enqueue":
        // Only the engine's batch-enqueue row (same workload), for A/B runs of the enqueue path.
        let enqueue = try await EngineBenchmark.batchEnqueue(url: url, jobs: count ?? 200_000)
        print("{\"name\": \"batch enqueue (1000 a round trip)\", \"per_second\": \(Int(enqueue))}")
    case "latency":
        // hoopoe-bench latency RATE [SECONDS] [separate]: one enqueue→start run (engine's rows are in-process).
        let rate = count ?? 10_000
        let seconds = arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5
        let separate = arguments.count > 4 && arguments[4] == "separate"
        let latency = try await EngineBenchmark.latency(url: url, rate: rate, seconds: seconds, separateProcess: separate)
        print("{\"name\": \"enqueue to start at \(rate) jobs/s\(separate ? ", worker in its own process" : "")\", \"rate\": \(rate), \"p50_ms\": \(latency.p50), \"p99_ms\": \(latency.p99), \"max_ms\": \(latency.max), \"jobs\": \(latency.count), \"expected\": \(rate * seconds), \"max_send_lag_ms\": \(latency.maxSendLag), \"p99_after_enqueue_ms\": \(latency.p99AfterEnqueue)}")
    case "latency-worker":
        // The worker side of `latency ... separate`, started by it: NAMESPACE COUNT TIMEOUT-SECONDS.
        guard arguments.count > 4, let jobs = Int(arguments[3]), let timeout = Int(arguments[4]) else { exit(64) }
        print(try await EngineBenchmark.latencyWorkerProcess(url: url, namespace: arguments[2], count: jobs, timeout: timeout))
    case "fill":
        // The topology benchmark's backlog: N `diag.incr` jobs over the given queues, for a `hoopoe worker` to drain.
        let queues = arguments.count > 3 ? arguments[3].split(separator: ",").map(String.init) : ["default"]
        let seconds = try await EngineBenchmark.fill(url: url, jobs: count ?? 100_000, queues: queues, counter: "bench:done")
        print("{\"name\": \"fill\", \"seconds\": \(seconds)}")
    case "memory":
        // Redis memory held per job: ready, scheduled, dead, history; the peers' envelope and a reminder SMS.
        for r in try await MemoryBenchmark.run(url: url, jobs: count ?? 100_000) {
            print("{\"name\": \"memory\", \"workload\": \"\(r.workload)\", \"held\": \"\(r.held)\", \"jobs\": \(r.jobs), \"used_memory_delta\": \(r.usedMemoryDelta), \"key_bytes\": \(r.keyBytes), \"stored_bytes\": \(r.storedBytes)}")
        }
    case "-h", "--help", "help":
        print(usage)
    default:
        print(usage)
        exit(64)
    }
}

do {
    try await run()
} catch {
    let line = Array("hoopoe-bench: \(error)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }  // to standard error
    exit(1)
}
