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
    let store: any Store
    switch kind {
    case .sqlite:
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try SQLiteStore(path: dir.appendingPathComponent("test.sqlite").path)
    case .postgres:
        guard let admin = ProcessInfo.processInfo.environment["FLYWHEEL_TEST_DATABASE_URL"] else { throw PostgresMissing() }
        let name = "flywheel_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try await PostgresStore(url: admin, logger: Logger(label: "test")).createDatabase(String(name))
        store = try PostgresStore(url: PostgresStore.url(admin, database: String(name)), logger: Logger(label: "test"))
    }
    try await store.migrate()
    return store
}
