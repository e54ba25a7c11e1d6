// swift-tools-version:6.1
import Foundation
import PackageDescription

// Layers (imports point down only), as README.md and docs/design.md draw them:
//   redial (CLI) → API, Sandbox → Jobs (the catalog, Jobs/) → Relay → Domain → Providers, Queue
//   → Settings → clients (RedisClient, PostgresClient, HTTPClient) → CryptoPrimitives, BlockingIO
//   → C wrappers (CHiredis, CLibpq, CCurl, COpenSSL). No C type leaks above the client modules.
//   LocalServices serves the tests, redial-bench and redial-chaos only.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Warnings are bugs here; dependencies are not held to it.
    .unsafeFlags(["-warnings-as-errors"]),
]

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
            dependencies: ["RedisClient", "PostgresClient", "HTTPClient"],
            swiftSettings: strict
        ),
        .target(
            name: "Queue",
            dependencies: [
                "RedisClient", "CryptoPrimitives",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("Scripts")],
            swiftSettings: strict
        ),
        .target(
            name: "Jobs",
            dependencies: [
                "Queue", "Domain", "Providers", "HTTPClient", "CryptoPrimitives", "RedisClient",
                .product(name: "Logging", package: "swift-log"),
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
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("Migrations")],
            swiftSettings: strict
        ),
        // The long-running services that keep PostgreSQL and Redis in step: outbox relay, reconciler.
        .target(
            name: "Relay",
            dependencies: [
                "Domain", "PostgresClient", "Queue",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Sandbox",
            dependencies: [
                "CryptoPrimitives", "HTTPClient", "Providers",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "API",
            dependencies: [
                "Domain", "Providers", "Queue", "RedisClient", "PostgresClient", "Settings", "CryptoPrimitives",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            resources: [
                .embedInCode("Scripts/checkIntakeLimits.lua"),
                .embedInCode("Widget/widget.js"),
                .embedInCode("Widget/demo.html"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "redial",
            dependencies: [
                "Settings", "Queue", "Jobs", "Domain", "Providers", "Relay", "API", "Sandbox", "RedisClient", "PostgresClient", "HTTPClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "redial-bench",
            dependencies: [
                "Queue", "RedisClient", "LocalServices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Bench",
            swiftSettings: strict
        ),

        .executableTarget(
            name: "redial-chaos",
            dependencies: [
                "Domain", "Providers", "PostgresClient", "Queue", "RedisClient", "HTTPClient", "LocalServices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Chaos",
            exclude: ["README.md", "reports", "network.sh"],
            swiftSettings: strict
        ),

        // Local servers and processes for the tests, the benchmarks and the chaos suite (moto,
        // child processes, the built binary, free ports); tests add their shared services on top.
        .target(name: "LocalServices", swiftSettings: strict),
        .target(name: "TestSupport", dependencies: ["LocalServices", "RedisClient", "PostgresClient", "HTTPClient"], path: "Tests/TestSupport",
                swiftSettings: strict),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "LocalServices", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "Domain", "LocalServices", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "CryptoPrimitives", "LocalServices", "TestSupport"],
                    exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "CryptoPrimitivesTests", dependencies: ["CryptoPrimitives"], swiftSettings: strict),
        .testTarget(name: "SettingsTests", dependencies: ["Settings", "RedisClient", "PostgresClient", "LocalServices", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "APITests", dependencies: ["Domain", "Providers", "HTTPClient", "PostgresClient", "RedisClient", "LocalServices", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "DomainTests", dependencies: [
            "Domain", "Queue", "PostgresClient", "RedisClient", "LocalServices", "TestSupport", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .testTarget(name: "DialingTests", dependencies: [
            "Domain", "Providers", "HTTPClient", "PostgresClient", "Queue", "RedisClient", "CryptoPrimitives", "LocalServices", "TestSupport",
        ], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "QueueTests", dependencies: ["Queue", "API", "Jobs", "RedisClient", "HTTPClient", "LocalServices", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "ArchitectureTests", dependencies: ["LocalServices"], swiftSettings: strict),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "Queue", "LocalServices", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "RelayTests", dependencies: [
            "Relay", "Domain", "Queue", "PostgresClient", "RedisClient", "LocalServices", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
