// swift-tools-version:6.1
import PackageDescription

// Layers (imports point down only), as ../shared/DESIGN.md draws them:
//   redial (CLI) → Queue → clients (RedisClient, PostgresClient, HTTPClient, CryptoPrimitives)
//   → C wrappers (CHiredis, CLibpq, CCurl, COpenSSL). No C type leaks above the client modules.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Warnings are bugs here; dependencies are not held to it.
    .unsafeFlags(["-warnings-as-errors"]),
]

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
        .target(name: "RedisClient", dependencies: ["CHiredis", "BlockingIO", "CryptoPrimitives"], swiftSettings: strict),
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
                "Queue", "Domain", "HTTPClient", "CryptoPrimitives",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Jobs",
            exclude: ["README.md"],
            resources: [
                .embedInCode("noop/noop.policy.json"),
                .embedInCode("sleep/sleep.policy.json"),
                .embedInCode("flaky/flaky.policy.json"),
                .embedInCode("callback.dial/callback.dial.policy.json"),
                .embedInCode("callback.dial/outcomes.json"),
                .embedInCode("callback.outcome/callback.outcome.policy.json"),
                .embedInCode("callback.check/callback.check.policy.json"),
                .embedInCode("notify.sms/notify.sms.policy.json"),
                .embedInCode("notify.sms/triggers.json"),
                .embedInCode("notify.sms/templates/callback_failed.en.mustache"),
                .embedInCode("notify.sms/templates/callback_failed.ru.mustache"),
                .embedInCode("notify.sms/templates/after_hours.en.mustache"),
                .embedInCode("notify.sms/templates/after_hours.ru.mustache"),
                .embedInCode("notify.sms/templates/low_balance.en.mustache"),
                .embedInCode("notify.sms/templates/low_balance.ru.mustache"),
                .embedInCode("notify.trigger/notify.trigger.policy.json"),
                .embedInCode("notify.status/notify.status.policy.json"),
                .embedInCode("recording.upload/recording.upload.policy.json"),
                .embedInCode("recording.retention/recording.retention.policy.json"),
                .embedInCode("report.plan/report.plan.policy.json"),
                .embedInCode("report.email/report.email.policy.json"),
                .embedInCode("report.email/templates/report.en.subject.mustache"),
                .embedInCode("report.email/templates/report.ru.subject.mustache"),
                .embedInCode("report.email/templates/report.en.html.mustache"),
                .embedInCode("report.email/templates/report.ru.html.mustache"),
                .embedInCode("schedules.json"),
                .embedInCode("notify.email/notify.email.policy.json"),
                .embedInCode("notify.email/templates/callback_failed.en.subject.mustache"),
                .embedInCode("notify.email/templates/callback_failed.ru.subject.mustache"),
                .embedInCode("notify.email/templates/callback_failed.en.html.mustache"),
                .embedInCode("notify.email/templates/callback_failed.ru.html.mustache"),
                .embedInCode("notify.email/templates/low_balance.en.subject.mustache"),
                .embedInCode("notify.email/templates/low_balance.ru.subject.mustache"),
                .embedInCode("notify.email/templates/low_balance.en.html.mustache"),
                .embedInCode("notify.email/templates/low_balance.ru.html.mustache"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Domain",
            dependencies: [
                "PostgresClient", "Queue", "CryptoPrimitives", "HTTPClient", "RedisClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("Migrations"), .embedInCode("Scripts")],
            swiftSettings: strict
        ),
        .target(
            name: "Sandbox",
            dependencies: [
                "CryptoPrimitives", "HTTPClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "API",
            dependencies: [
                "Domain", "Queue", "RedisClient", "PostgresClient", "Settings", "CryptoPrimitives",
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
                "Settings", "Queue", "Jobs", "Domain", "API", "Sandbox", "RedisClient", "PostgresClient",
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
                "Queue", "RedisClient", "TestSupport",
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
                "Domain", "PostgresClient", "Queue", "RedisClient", "HTTPClient", "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Chaos",
            exclude: ["README.md", "reports", "network.sh"],
            swiftSettings: strict
        ),

        .target(name: "TestSupport", dependencies: ["RedisClient", "PostgresClient", "HTTPClient"], path: "Tests/TestSupport",
                swiftSettings: strict),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "Domain", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "CryptoPrimitives", "TestSupport"],
                    exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "CryptoPrimitivesTests", dependencies: ["CryptoPrimitives"], swiftSettings: strict),
        .testTarget(name: "SettingsTests", dependencies: ["Settings", "RedisClient", "PostgresClient", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "APITests", dependencies: ["Domain", "HTTPClient", "PostgresClient", "RedisClient", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "DomainTests", dependencies: [
            "Domain", "Queue", "PostgresClient", "RedisClient", "TestSupport", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .testTarget(name: "DialingTests", dependencies: [
            "Domain", "HTTPClient", "PostgresClient", "Queue", "RedisClient", "CryptoPrimitives", "TestSupport",
        ], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "QueueTests", dependencies: ["Queue", "Jobs", "RedisClient", "HTTPClient", "TestSupport"],
                    swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
