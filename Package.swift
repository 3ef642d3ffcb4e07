// swift-tools-version:6.1
// Hoopoe: a Redis-backed background job worker and scheduler.
// Targets from the bottom up: CHiredis and CHoopoeOpenSSL (C) → Redis (client) → HoopoeCore (engine) → HoopoeJobs
// (the domain jobs, on HoopoeCore and Providers) and HoopoeScheduler (cron, the schedule file, on HoopoeCore) → hoopoe (CLI).
// Providers (Kavenegar, IPPanel, Brevo over AsyncHTTPClient) stands beside the engine; ProviderFakes
// (Hummingbird) speaks the providers' documented protocols locally for tests and `make run`.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The engine's two targets (the Redis client, the queue engine): their nonisolated async functions run on their
/// caller's executor instead of hopping to the generic one on every call. A job's path crossed ~12 such hops, each
/// reading the runners' task executor preference under a lock; without them a worker's instructions a job fell 5 %
/// and its jobs a second rose 1.12× in alternated rounds on the peers' job (decision 0093). Turning it on changes those functions' calling convention: a `.build` built
/// before it must be rebuilt whole (an incremental build linked stale objects).
let engineSwiftSettings: [SwiftSetting] = swiftSettings + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]

let package = Package(
    name: "hoopoe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hoopoe", targets: ["hoopoe"]),
        .library(name: "HoopoeCore", targets: ["HoopoeCore"]),
        .library(name: "Redis", targets: ["Redis"]),
        .library(name: "Providers", targets: ["Providers"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        // Already in the graph through async-http-client and hummingbird; named because Providers and
        // ProviderFakes import NIOCore, NIOHTTP1 and HTTPTypes directly.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        // NIOHTTPTypes, for the dashboard's whole-request deadline (RequestDeadline): already in the graph through
        // Hummingbird.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
        // NIOSSL's errors, for a provider whose TLS handshake failed (nothing sent: ProviderTransport): already in the
        // graph through async-http-client.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        // Already in the graph (through swift-certificates); named because the Redis client hashes a script's source
        // with SHA-1 (the name Redis gives it for EVALSHA; the function library's version tag too: not a security
        // use), and the dashboard seals its notices with an HMAC.
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // The system OpenSSL for TLS to Redis, on the connection's own thread (decision 0024): built against Debian's
        // libssl-dev headers, not linked, loaded with dlopen() at the first TLS connection (decision 0035).
        .target(name: "CHoopoeOpenSSL"),
        .target(
            name: "HoopoeJSON",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Redis",
            // Logging: the client logs a Sentinel failover it follows (once, at notice) through the process's logger.
            // Crypto: a script's SHA-1 (RedisScript.sha1): on a cluster the client computes it instead of asking a node,
            // and the function library's version tag is one.
            dependencies: [
                "CHiredis", "CHoopoeOpenSSL", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: engineSwiftSettings
        ),
        .target(
            name: "HoopoeCore",
            dependencies: [
                "HoopoeJSON",
                "Redis",
                .product(name: "Logging", package: "swift-log"),
            ],
            // The engine's Lua scripts, one `.lua` file each beside the store that runs them, compiled into the
            // binary (`PackageResources.<name>_lua`): a deployment cannot lose them, and `jobs/lua/enqueue.lua` is
            // a link to the same file.
            resources: [.embedInCode("Store/Lua")],
            swiftSettings: engineSwiftSettings
        ),
        .target(
            name: "Providers",
            dependencies: [
                "HoopoeJSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // NIOConnectionError: a connection never made, so a request never sent (ProviderTransport).
                .product(name: "NIOPosix", package: "swift-nio"),
                // A TLS handshake that failed: a request never sent either (ProviderTransport).
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HoopoeJobs",
            dependencies: [
                "HoopoeCore",
                "HoopoeJSON",
                "Providers",
                "Redis",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            // Each area's Lua scripts, beside the store that runs them, compiled in as PackageResources.<file>_lua
            // (file names unique across the target). jobs/lua/{freecredit,gift_wheel}.lua link to theirs.
            resources: [
                .embedInCode("FreeCredit/Lua"), .embedInCode("Gifts/Lua"), .embedInCode("Support/Lua"),
                .embedInCode("Reminders/Lua"), .embedInCode("SMS/Lua"), .embedInCode("Email/Lua"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HoopoeScheduler",
            dependencies: ["HoopoeCore", "HoopoeJSON", "Redis", .product(name: "Yams", package: "Yams")],
            // RedisLastTickStore's script, compiled in (PackageResources.schedule_advance_last_tick_lua).
            resources: [.embedInCode("Lua")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProviderFakes",
            dependencies: [
                "Providers",
                "HoopoeJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HoopoeDashboard",
            // The web dashboard (`hoopoe dashboard`): server-rendered HTML on Hummingbird, reading through the stores.
            dependencies: [
                "HoopoeCore",
                "HoopoeJobs",
                "HoopoeJSON",
                "HoopoeScheduler",
                "Redis",
                // HMAC for the notices an action leaves (CSRFToken.seal): already in the graph through Redis.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "hoopoe",
            dependencies: [
                "HoopoeCore",
                "HoopoeDashboard",
                "HoopoeJobs",
                "HoopoeScheduler",
                "Redis",
                "Providers",
                "ProviderFakes",
                "HoopoeJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "hoopoe-bench",
            dependencies: ["Redis", "HoopoeCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Redis", "HoopoeCore", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisTests",
            dependencies: ["Redis", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HoopoeCoreTests",
            dependencies: ["HoopoeCore", "HoopoeScheduler", "Redis", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HoopoeSchedulerTests",
            dependencies: ["HoopoeScheduler", "HoopoeCore", "HoopoeJSON", "Redis", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HoopoeCLITests",
            dependencies: ["TestSupport", "HoopoeCore", "HoopoeScheduler", "Redis", "HoopoeJSON", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HoopoeJobsTests",
            dependencies: ["HoopoeJobs", "HoopoeCore", "HoopoeScheduler", "Providers", "ProviderFakes", "HoopoeJSON", "Redis", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HoopoeDashboardTests",
            dependencies: [
                "HoopoeDashboard", "HoopoeCore", "HoopoeScheduler", "HoopoeJSON", "Redis", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProvidersTests",
            dependencies: ["Providers", "ProviderFakes", "HoopoeJSON"],
            swiftSettings: swiftSettings
        ),
    ]
)
