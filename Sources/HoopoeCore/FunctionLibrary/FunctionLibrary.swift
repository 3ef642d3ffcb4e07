import Redis

/// Hoopoe's Redis 7 function library: the scripts other services may call, each a function they `FCALL` by name
/// (`FCALL hoopoe_enqueue 5 <keys> <args>`), so no service ships a copy of a script (decision 0022).
///
/// Each ``RedisScript`` becomes `redis.register_function('hoopoe_<name>', function(KEYS, ARGV) <its text> end)`:
/// the script's body runs unchanged, `KEYS` and `ARGV` being the function's two parameters, as `FCALL` passes them.
/// A last function, `hoopoe_library_version` (read-only, no keys), answers the SHA-1 of everything above it, so a
/// process can ask in one small call whether the loaded library is exactly its own (``FunctionLibraryLoader``).
///
/// Functions live in the server, not in a database or a namespace: every Hoopoe deployment on one Redis shares
/// the one library named `hoopoe`, and on Redis Cluster every primary needs it.
public struct FunctionLibrary: Sendable, Equatable {
    /// The library's name in `FUNCTION LIST`, and the first word of every function's name.
    public static let name = "hoopoe"
    /// The read-only function answering ``version``.
    public static let versionFunction = "hoopoe_library_version"

    /// The scripts, in the order they are registered.
    public let scripts: [RedisScript]
    /// The text `FUNCTION LOAD` receives.
    public let code: String
    /// SHA-1 of the code before the version function (40 hex digits): what `hoopoe_library_version` answers.
    public let version: String

    /// - Parameter scripts: each one's name becomes its function's name after `hoopoe_`: letters, digits and `_`
    ///   only (Redis's rule for function names), every name once.
    public init(scripts: [RedisScript]) {
        var seen: Set<String> = []
        for script in scripts {
            precondition(Self.isFunctionName(script.name) && seen.insert(script.name).inserted,
                "a script of the function library needs a unique name of letters, digits and _ (got \(script.name))")
        }
        self.scripts = scripts
        var body = "#!lua name=\(Self.name)\n"
        body += "-- Hoopoe's function library, made by hoopoe from the scripts it runs itself (docs/decisions/0022).\n"
        body += "-- Do not edit it here: `hoopoe functions load` (and every worker and scheduler) replaces it.\n"
        for script in scripts {
            body += "\nredis.register_function('\(Self.functionName(script))', function(KEYS, ARGV)\n"
            body += script.source.hasSuffix("\n") ? script.source : script.source + "\n"
            body += "end)\n"
        }
        let version = RedisScript.sha1(body)
        self.version = version
        code = body + "\nredis.register_function{function_name='\(Self.versionFunction)', callback=function() return '\(version)' end, flags={'no-writes'}}\n"
    }

    /// `hoopoe_<name>`: what a service `FCALL`s to run `script`.
    public static func functionName(_ script: RedisScript) -> String { "\(name)_\(script.name)" }

    /// Every function a service may call, in order, the version function last.
    public var functionNames: [String] { scripts.map(Self.functionName) + [Self.versionFunction] }

    /// The first 8 digits of ``version``, for logs.
    public var shortVersion: String { String(version.prefix(8)) }

    static func isFunctionName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

extension FunctionLibrary {
    /// The engine's scripts other services call: enqueue (jobs/PROTOCOL.md, "Later, unique, or once-only").
    public static let engineScripts: [RedisScript] = [JobStore.enqueueScript]
}
