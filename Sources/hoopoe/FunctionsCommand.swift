import ArgumentParser
import HoopoeCore
import Redis

/// `hoopoe functions`: the Redis function library services call (`FCALL hoopoe_enqueue ...`).
struct FunctionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "functions",
        abstract: "The Redis function library services FCALL (hoopoe_enqueue, hoopoe_freecredit, hoopoe_gift_wheel).",
        discussion: """
            Services enqueue later, unique or once-only jobs with FCALL hoopoe_enqueue (jobs/PROTOCOL.md), which \
            needs Hoopoe's function library on their Redis (Redis 7.0 or later). Every `hoopoe worker` and \
            `hoopoe scheduler` loads it at start and checks it every 15 s (a Redis restarted without persistence \
            forgets it); run `hoopoe functions load` as a deploy step when services may enqueue before any worker \
            has started. Functions belong to the whole server, not to a namespace; on Redis Cluster every primary \
            needs them.
            """,
        subcommands: [FunctionsLoadCommand.self, FunctionsShowCommand.self]
    )
}

/// `hoopoe functions load`: loads the library unless the server holds exactly this one.
struct FunctionsLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load the function library into Redis unless it is there already (FUNCTION LOAD REPLACE).",
        discussion: """
            Prints what it did and the library's version (the SHA-1 that FCALL_RO hoopoe_library_version 0 answers). \
            Exit 0 when the library is loaded, 1 when Redis has no functions (before 7.0) or the ACL refuses \
            FCALL_RO or FUNCTION LOAD (the message names the command), 2 when Redis is unreachable.
            """
    )

    @OptionGroup var options: RedisOptions

    func run() async throws {
        let redis = try options.makeAdminClient(timeout: .seconds(5))
        defer { redis.close() }
        let library = HoopoeFunctions.library
        let outcome: FunctionLibraryLoader.Outcome
        do {
            outcome = try await FunctionLibraryLoader(library: library, redis: redis).ensure()
        } catch let error as RedisError {
            printError(error.operatorLine)
            throw ExitCode(error.isUnreachable ? 2 : 1)
        } catch let error as FunctionLibraryError {
            printError("\(error)")
            throw ExitCode(1)
        }
        let what = switch outcome {
        case .alreadyLoaded: "already loaded"
        case .loaded(over: .other(let version)): "loaded over version \(version)"
        case .loaded: "loaded"
        }
        print("hoopoe function library \(library.version) \(what) on \(redis.configuration.redactedURL): \(library.functionNames.joined(separator: ", "))")
    }
}

/// `hoopoe functions show`: prints the library's code.
struct FunctionsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the function library's code (what `functions load` sends), e.g. to review it or load it by hand.",
        discussion: "Loading by hand: hoopoe functions show | redis-cli -x FUNCTION LOAD REPLACE"
    )

    func run() async throws {
        print(HoopoeFunctions.library.code, terminator: "")
    }
}
