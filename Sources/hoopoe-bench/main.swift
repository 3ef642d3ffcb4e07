// hoopoe-bench: the measurements behind `make bench`. Not shipped; prints one JSON object a line.
#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
let url = getenv("REDIS_URL").map { String(cString: $0) } ?? "redis://127.0.0.1:6379/0"
let operations = arguments.count > 2 ? Int(arguments[2]) ?? 200_000 : 200_000

switch arguments.dropFirst().first ?? "redis" {
case "redis":
    for result in try await RedisBenchmark.run(url: url, operations: operations, clients: 50) {
        print("{\"name\": \"\(result.name)\", \"ops\": \(result.operations), \"seconds\": \(result.seconds), \"per_second\": \(Int(result.perSecond))}")
    }
default:
    print("usage: hoopoe-bench redis [N]")
    exit(64)
}
