// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "flywheel",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "flywheel", targets: ["flywheel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .target(name: "FlywheelDomain"),
        .target(name: "FlywheelStore", dependencies: ["FlywheelDomain"]),
        .target(name: "FlywheelSQLite", dependencies: [
            "FlywheelDomain", "FlywheelStore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        .target(name: "FlywheelPostgres", dependencies: [
            "FlywheelDomain", "FlywheelStore",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "FlywheelPlatform", dependencies: [
            "FlywheelDomain",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "FlywheelEngine", dependencies: [
            "FlywheelDomain", "FlywheelStore", "FlywheelPlatform",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "FlywheelSimulator", dependencies: ["FlywheelDomain"]),
        .target(name: "FlywheelServer", dependencies: [
            "FlywheelDomain", "FlywheelStore", "FlywheelPlatform", "FlywheelEngine",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], resources: [.copy("openapi.json")]),
        .executableTarget(name: "flywheel", dependencies: [
            "FlywheelDomain", "FlywheelStore", "FlywheelSQLite", "FlywheelPostgres", "FlywheelPlatform",
            "FlywheelEngine", "FlywheelSimulator", "FlywheelServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "FlywheelDomainTests", dependencies: ["FlywheelDomain"]),
        .testTarget(name: "FlywheelStoreTests", dependencies: [
            "FlywheelDomain", "FlywheelStore", "FlywheelSQLite", "FlywheelPostgres", "FlywheelEngine",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .testTarget(name: "FlywheelPostgresTests", dependencies: [
            "FlywheelDomain", "FlywheelStore", "FlywheelPostgres", "FlywheelEngine",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .testTarget(name: "FlywheelSQLiteTests", dependencies: [
            "FlywheelDomain", "FlywheelStore", "FlywheelSQLite", "FlywheelEngine",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "FlywheelPlatformTests", dependencies: ["FlywheelDomain", "FlywheelPlatform"]),
        .testTarget(name: "FlywheelEngineTests", dependencies: ["FlywheelDomain", "FlywheelEngine"]),
        .testTarget(name: "FlywheelSimulatorTests", dependencies: ["FlywheelDomain", "FlywheelSimulator"]),
        .testTarget(name: "FlywheelServerTests", dependencies: [
            "FlywheelDomain", "FlywheelStore", "FlywheelSQLite", "FlywheelEngine", "FlywheelPlatform", "FlywheelServer",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
