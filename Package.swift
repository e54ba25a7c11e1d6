// swift-tools-version:6.1
import Foundation
import PackageDescription

// Layers (imports point down only), as README.md and docs/design.md draw them:
//   redial (CLI) → API, Sandbox → Jobs (the catalog, Jobs/) → Relay → Domain → Providers, Queue
//   → Settings → clients (RedisClient, PostgresClient, HTTPClient) → CryptoPrimitives, BlockingIO
//   → C wrappers (CHiredis, CLibpq, CCurl, COpenSSL). No C type leaks above the client modules.
//   LocalServices serves the tests, redial-bench and redial-chaos only.
// Products used by several targets.
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

/// `REDIAL_FUZZ=1` (`make fuzz`, in a build directory of its own): every module of ours carries
/// libFuzzer's coverage instrumentation and `redial-fuzz` becomes a libFuzzer binary;
/// `REDIAL_FUZZ=planted` adds the planted bug the short pass must find. Dependencies stay as they are.
let fuzzing = Context.environment["REDIAL_FUZZ"] ?? ""

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Warnings are bugs here; dependencies are not held to it.
    .unsafeFlags(["-warnings-as-errors"]),
] + (fuzzing.isEmpty ? [] : [.unsafeFlags(["-sanitize=fuzzer"])])

/// Every policy, template and data file of the job catalog (`Jobs/<type>/…`), found on disk, so
/// a new job type's files need no line here.
let jobResources: [Resource] = {
    let root = Context.packageDirectory + "/Jobs"
    let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
    return files.filter { [".json", ".mustache", ".lua"].contains(where: $0.hasSuffix) }.sorted().map { .embedInCode($0) }
}()

let package = Package(
    name: "Redial",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "redial", targets: ["redial"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        // C libraries, reached only through the client modules right above them.
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis"),
        .systemLibrary(name: "CLibpq", path: "Sources/CLibpq"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .target(name: "CCurl", path: "Sources/CCurl", linkerSettings: [.linkedLibrary("curl")]),

        .target(name: "BlockingIO", swiftSettings: strict),
        .target(name: "RedisClient", dependencies: ["CHiredis", "BlockingIO", "CryptoPrimitives"], resources: [.embedInCode("Scripts")],
                swiftSettings: strict),
        .target(name: "PostgresClient", dependencies: ["CLibpq", "BlockingIO"], swiftSettings: strict),
        .target(name: "HTTPClient", dependencies: ["CCurl"], swiftSettings: strict),
        .target(name: "CryptoPrimitives", dependencies: ["COpenSSL"], swiftSettings: strict),
        .target(
            name: "Settings",
            dependencies: ["RedisClient", "PostgresClient", "HTTPClient", "CryptoPrimitives"],
            swiftSettings: strict
        ),
        .target(
            name: "Queue",
            dependencies: [
                "RedisClient", "CryptoPrimitives",
                logging,
                metrics,
                lifecycle,
            ],
            resources: [.embedInCode("Scripts")],
            swiftSettings: strict
        ),
        .target(
            name: "Jobs",
            dependencies: [
                "Queue", "Domain", "Providers", "HTTPClient", "CryptoPrimitives", "RedisClient",
                logging,
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Jobs",
            exclude: ["README.md"],
            resources: jobResources,
            swiftSettings: strict
        ),
        // The carriers, SMS gateways and object stores the product talks to, behind protocols.
        .target(
            name: "Providers",
            dependencies: ["HTTPClient", "CryptoPrimitives"],
            swiftSettings: strict
        ),
        // The callback's model, its PostgreSQL stores and the dial flow.
        .target(
            name: "Domain",
            dependencies: [
                "PostgresClient", "Queue", "Providers", "CryptoPrimitives", "HTTPClient",
                logging,
            ],
            resources: [.embedInCode("Migrations")],
            swiftSettings: strict
        ),
        // The long-running services that keep PostgreSQL and Redis in step: outbox relay, reconciler.
        // The release path's gate: beta against production over a soak window.
        .target(name: "ReleaseGate", dependencies: ["PostgresClient", "Queue"], swiftSettings: strict),
        .target(
            name: "Relay",
            dependencies: [
                "Domain", "PostgresClient", "Queue",
                logging,
                metrics,
                lifecycle,
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Sandbox",
            dependencies: [
                "CryptoPrimitives", "HTTPClient", "Providers",
                hummingbird,
                httpTypes,
                logging,
            ],
            swiftSettings: strict
        ),
        // The operations console at /admin: server-rendered pages over the queues and callbacks.
        .target(
            name: "Console",
            dependencies: [
                "Domain", "Providers", "Queue", "ReleaseGate", "RedisClient", "PostgresClient", "CryptoPrimitives",
                hummingbird,
                httpTypes,
                logging,
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.embedInCode("Templates"), .embedInCode("console.js"), .embedInCode("console.css")],
            swiftSettings: strict
        ),
        // The site owner's cabinet at /cabinet: e-mail link sign-in, the owner's sites, their widget.
        .target(
            name: "Cabinet",
            dependencies: [
                "Console", "Domain", "Providers", "HTTPClient", "RedisClient", "PostgresClient", "CryptoPrimitives",
                hummingbird,
                httpTypes,
                logging,
            ],
            resources: [.embedInCode("Templates"), .embedInCode("cabinet.css"), .embedInCode("cabinet.js")],
            swiftSettings: strict
        ),
        .target(
            name: "API",
            dependencies: [
                "Domain", "Providers", "Queue", "RedisClient", "PostgresClient", "Settings", "CryptoPrimitives", "Console", "Cabinet",
                hummingbird,
                httpTypes,
                prometheus,
                logging,
                metrics,
            ],
            resources: [
                .embedInCode("Scripts/checkIntakeLimits.lua"),
                .embedInCode("Widget/widget.js"),
                .embedInCode("Widget/demo.html"),
                .embedInCode("openapi.json"),
            ],
            swiftSettings: strict
        ),
        // The watchdog: probes for Prometheus, the lease among watchdogs, the dial guard.
        .target(
            name: "Watchdog",
            dependencies: [
                "Queue", "Settings", "Providers", "ReleaseGate", "RedisClient", "PostgresClient", "HTTPClient", "CryptoPrimitives", logging, metrics,
                lifecycle,
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.embedInCode("probes.json"), .embedInCode("Scripts")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "redial",
            dependencies: [
                "Settings", "Queue", "Jobs", "Domain", "Providers", "Relay", "ReleaseGate", "API", "Console", "Cabinet", "Sandbox", "Watchdog", "RedisClient", "PostgresClient", "HTTPClient", "CryptoPrimitives",
                argumentParser,
                metrics,
                prometheus,
                hummingbird,
                logging,
                lifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "redial-bench",
            dependencies: [
                "Queue", "RedisClient", "HTTPClient", "PostgresClient", "Relay", "LocalServices",
                argumentParser,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                logging,
                metrics,
                prometheus,
            ],
            path: "Sources/Bench",
            swiftSettings: strict
        ),

        .executableTarget(
            name: "redial-chaos",
            dependencies: [
                "Domain", "Providers", "PostgresClient", "Queue", "RedisClient", "HTTPClient", "CryptoPrimitives", "LocalServices",
                argumentParser,
            ],
            path: "Chaos",
            exclude: ["README.md", "reports", "network.sh"],
            swiftSettings: strict
        ),
        // Every public parser behind one entry each (Sources/FuzzTargets); `redial-fuzz` replays
        // inputs through them, or is the libFuzzer binary in a `REDIAL_FUZZ` build.
        .target(name: "FuzzTargets", dependencies: ["Domain", "API", "Providers", "Queue", "RedisClient"],
                swiftSettings: strict + (fuzzing == "planted" ? [.define("FUZZ_PLANTED")] : [])),
        .executableTarget(
            name: "redial-fuzz",
            dependencies: ["FuzzTargets"],
            swiftSettings: strict + (fuzzing.isEmpty ? [] : [.define("LIBFUZZER")]),
            linkerSettings: fuzzing.isEmpty ? [] : [.unsafeFlags(["-sanitize=fuzzer"])]
        ),

        // Local servers and processes for the tests, the benchmarks and the chaos suite (moto,
        // child processes, the built binary, free ports); tests add their shared services on top.
        .target(name: "LocalServices", dependencies: ["RedisClient"], swiftSettings: strict),
        .target(name: "TestSupport", dependencies: ["LocalServices", "RedisClient", "PostgresClient", "HTTPClient"], path: "Tests/TestSupport",
                swiftSettings: strict),
        tests("RedisClientTests", ["RedisClient"]),
        tests("PostgresClientTests", ["PostgresClient", "Domain"]),
        tests("HTTPClientTests", ["HTTPClient", "CryptoPrimitives"], exclude: ["Fixtures"]),
        tests("CryptoPrimitivesTests", ["CryptoPrimitives"]),
        tests("SettingsTests", ["Settings", "RedisClient", "PostgresClient"]),
        tests("QueueTests", ["Queue", "API", "Jobs", "Watchdog", "RedisClient", "HTTPClient"]),
        tests("ProvidersTests", ["Providers"]),
        tests("DomainTests", ["Domain", "PostgresClient", "CryptoPrimitives"]),
        tests("JobsTests", ["Jobs", "Domain", "Queue", "RedisClient"]),
        tests("RelayTests", ["Relay", "Domain", "Queue", "PostgresClient", "RedisClient", logging]),
        tests("APITests", ["API", "Domain", "Providers", "Queue", "HTTPClient", "PostgresClient", "RedisClient", prometheus, logging],
              exclude: ["Fixtures"]),
        // End to end through the built binary: the dial flow, messages, recordings, reports, the widget.
        tests("DialingTests", ["Domain", "Providers", "HTTPClient", "PostgresClient", "Queue", "RedisClient", "CryptoPrimitives"],
              exclude: ["Fixtures"]),
        tests("WatchdogTests", ["Watchdog", "Queue", "RedisClient", "HTTPClient", "PostgresClient"]),
        tests("ReleaseGateTests", ["ReleaseGate", "Queue", "PostgresClient"]),
        tests("ArchitectureTests", []),
    ],
    swiftLanguageModes: [.v6]
)

/// A test target of `Tests/<name>`: the modules it tests, plus the local services every test may use.
func tests(_ name: String, _ dependencies: [Target.Dependency], exclude: [String] = []) -> Target {
    .testTarget(name: name, dependencies: dependencies + ["LocalServices", "TestSupport"], exclude: exclude, swiftSettings: strict)
}
