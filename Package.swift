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
    ],
    targets: [
        // C libraries, reached only through the client modules right above them.
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis"),
        .systemLibrary(name: "CLibpq", path: "Sources/CLibpq"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .target(name: "CCurl", path: "Sources/CCurl", linkerSettings: [.linkedLibrary("curl")]),

        .target(name: "BlockingIO", swiftSettings: strict),
        .target(name: "RedisClient", dependencies: ["CHiredis", "BlockingIO"], swiftSettings: strict),
        .target(name: "PostgresClient", dependencies: ["CLibpq", "BlockingIO"], swiftSettings: strict),
        .target(name: "HTTPClient", dependencies: ["CCurl"], swiftSettings: strict),
        .target(name: "CryptoPrimitives", dependencies: ["COpenSSL"], swiftSettings: strict),
        .target(
            name: "Settings",
            dependencies: ["RedisClient", "PostgresClient"],
            swiftSettings: strict
        ),
        .target(
            name: "Domain",
            dependencies: ["PostgresClient"],
            resources: [.embedInCode("Migrations")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "redial",
            dependencies: [
                "Settings", "Domain", "RedisClient", "PostgresClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        .target(name: "TestSupport", dependencies: ["RedisClient", "PostgresClient"], path: "Tests/TestSupport",
                swiftSettings: strict),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "Domain", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "TestSupport"],
                    exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "CryptoPrimitivesTests", dependencies: ["CryptoPrimitives"], swiftSettings: strict),
        .testTarget(name: "SettingsTests", dependencies: ["Settings", "RedisClient", "PostgresClient"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
