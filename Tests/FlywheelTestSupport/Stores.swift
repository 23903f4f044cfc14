import FlywheelPostgres
import FlywheelSQLite
import FlywheelStore
import Foundation
import Logging
import Testing

/// The stores the suites run against: a test taking a `StoreKind` runs on both.
public enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    public var testDescription: String { rawValue }
}

public struct PostgresMissing: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "FLYWHEEL_TEST_DATABASE_URL is not set: run scripts/test, which starts a throwaway PostgreSQL server" }
}

/// A fresh, migrated store of `kind`: its own SQLite file, or its own database on the test server.
public func makeStore(_ kind: StoreKind) async throws -> any Store {
    try await makeStores(kind, count: 1)[0]
}

/// `count` stores of `kind` opened on one fresh, migrated SQLite file or database, as as many
/// processes would: each with only its own memory (kept fans, the log's tail).
public func makeStores(_ kind: StoreKind, count: Int) async throws -> [any Store] {
    let open: () throws -> any Store
    switch kind {
    case .sqlite:
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("test.sqlite").path
        open = { try SQLiteStore(path: path) }
    case .postgres:
        guard let admin = ProcessInfo.processInfo.environment["FLYWHEEL_TEST_DATABASE_URL"] else { throw PostgresMissing() }
        let name = "flywheel_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try await PostgresStore(url: admin, logger: Logger(label: "test")).createDatabase(String(name))
        let url = PostgresStore.url(admin, database: String(name))
        open = { try PostgresStore(url: url, logger: Logger(label: "test")) }
    }
    let stores = try (0..<max(count, 1)).map { _ in try open() }
    try await stores[0].migrate()
    return stores
}
