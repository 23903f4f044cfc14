@testable import FlywheelPostgres
@testable import FlywheelSQLite
@testable import FlywheelStore
import FlywheelTestSupport
import Foundation
import GRDB
import Logging
import PostgresNIO
import Testing

/// The schema as a list of comparable lines: tables with their columns, keys, checks and indexes.
private protocol SchemaReader {
    func execute(_ sql: String) async throws
    func schema() async throws -> [String]
    /// Each key and unique index: (table, name, its columns in order).
    func uniqueKeys() async throws -> [(table: String, name: String, columns: [String])]
    func migrate() async throws
}

private struct SQLiteReader: SchemaReader {
    let store: SQLiteStore

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try SQLiteStore(path: dir.appendingPathComponent("schema.sqlite").path)
    }

    func execute(_ sql: String) async throws { try await store.pool.write { try $0.execute(sql: sql) } }
    func migrate() async throws { try await store.migrate() }

    func schema() async throws -> [String] {
        try await store.pool.read { db in
            var lines = try Row.fetchAll(db, sql: "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name").map {
                "\($0["type"] as String) \($0["name"] as String): \($0["sql"] as String)"
            }
            lines += try Row.fetchAll(db, sql: "SELECT version, checksum FROM flywheel_migrations ORDER BY version").map {
                "migration \($0["version"] as String) \($0["checksum"] as String)"
            }
            return lines
        }
    }

    func uniqueKeys() async throws -> [(table: String, name: String, columns: [String])] {
        try await store.pool.read { db in
            var keys: [(table: String, name: String, columns: [String])] = []
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
                let pk = try Row.fetchAll(db, sql: "SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", arguments: [table])
                keys.append((table, "primary key", pk.map { $0["name"] }))
                for index in try Row.fetchAll(db, sql: "SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1 AND origin != 'pk'", arguments: [table]) {
                    let name: String = index["name"]
                    keys.append((table, name, try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [name])))
                }
            }
            return keys
        }
    }
}

private struct PostgresReader: SchemaReader {
    let store: PostgresStore

    init() async throws {
        guard let admin = ProcessInfo.processInfo.environment["FLYWHEEL_TEST_DATABASE_URL"] else { throw PostgresMissing() }
        let name = "flywheel_schema_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try await PostgresStore(url: admin, logger: Logger(label: "test")).createDatabase(String(name))
        store = try PostgresStore(url: PostgresStore.url(admin, database: String(name)), logger: Logger(label: "test"))
    }

    func execute(_ sql: String) async throws { _ = try await store.read(sql, []) }
    func migrate() async throws { try await store.migrate() }

    func schema() async throws -> [String] {
        var lines = try await store.read("""
            SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
            FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
            """, []).map { try $0.text(0) }
        lines += try await store.read("SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname", []).map { try $0.text(0) }
        lines += try await store.read("""
            SELECT conrelid::regclass::text || ' ' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
            WHERE connamespace = 'public'::regnamespace ORDER BY 1
            """, []).map { try $0.text(0) }
        lines += try await store.read("SELECT version || ' ' || checksum FROM flywheel_migrations ORDER BY version", []).map { "migration " + (try $0.text(0)) }
        return lines
    }

    func uniqueKeys() async throws -> [(table: String, name: String, columns: [String])] {
        try await store.read("""
            SELECT t.relname, i.relname, string_agg(a.attname, ',' ORDER BY k.n)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace s ON s.oid = t.relnamespace
            CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE s.nspname = 'public' AND x.indisunique GROUP BY t.relname, i.relname
            """, []).map { (try $0.text(0), try $0.text(1), try $0.text(2).split(separator: ",").map(String.init)) }
    }
}

private func reader(_ kind: StoreKind) async throws -> any SchemaReader {
    switch kind {
    case .sqlite: try SQLiteReader()
    case .postgres: try await PostgresReader()
    }
}

/// The release's schema, kept as a fixture (Tests/Fixtures/schema), statement by statement.
private func releaseFixture(_ kind: StoreKind) throws -> [String] {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<2 { url.deleteLastPathComponent() }
    let text = try String(contentsOf: url.appendingPathComponent("Fixtures/schema/release-4.\(kind.rawValue).sql"), encoding: .utf8)
    return text.components(separatedBy: ";\n\n").map { $0.split(separator: "\n").filter { !$0.hasPrefix("--") }.joined(separator: "\n") }
        .filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
}

@Suite struct SchemaTests {
    @Test(arguments: StoreKind.allCases)
    func aDatabaseOfTheLastReleaseUpgradesToExactlyTheFreshSchema(_ kind: StoreKind) async throws {
        let upgraded = try await reader(kind)
        for statement in try releaseFixture(kind) { try await upgraded.execute(statement) }
        try await upgraded.migrate()
        let fresh = try await reader(kind)
        try await fresh.migrate()
        let (a, b) = (try await upgraded.schema(), try await fresh.schema())
        #expect(a == b, "only in the upgraded: \(Set(a).subtracting(b).sorted()); only in the fresh: \(Set(b).subtracting(a).sorted())")
        try await upgraded.migrate()
        #expect(try await upgraded.schema() == a, "migrating again changes nothing")
    }

    @Test(arguments: StoreKind.allCases)
    func tenantIdLeadsEveryKeyAndUniqueIndex(_ kind: StoreKind) async throws {
        let fresh = try await reader(kind)
        try await fresh.migrate()
        let keys = try await fresh.uniqueKeys()
        #expect(keys.count > 15)
        for key in keys where key.table != "flywheel_migrations" {
            // SQLite's log (its ids too) and the fans' runs and touches are keyed by the account's stream number, its change feed by one
            // increasing number (one file, nothing to shard).
            let logKey = ["events", "event_ids", "event_streams", "fan_event_runs", "fan_touchpoints"].contains(key.table) && key.columns.first == "stream"
                || key.table == "changes" && key.columns == ["seq"]
            let lead = kind == .sqlite && logKey ? "tenant_id" : key.columns.first
            #expect(lead == "tenant_id", "\(key.table) \(key.name) (\(key.columns.joined(separator: ", ")))")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anEditedMigrationIsRefusedAtStart(_ kind: StoreKind) async throws {
        let db = try await reader(kind)
        try await db.migrate()
        try await db.execute("UPDATE flywheel_migrations SET checksum = 'edited' WHERE version = 'v2 segments'")
        await #expect(throws: MigrationError.self) { try await db.migrate() }
        try await db.execute("UPDATE flywheel_migrations SET checksum = '\(Migration.v2checksum(kind))' WHERE version = 'v2 segments'")
        try await db.execute("INSERT INTO flywheel_migrations (version, checksum, applied_at) VALUES ('v99 from the future', 'x', \(kind == .sqlite ? "0" : "now()"))")
        do {
            try await db.migrate()
            Issue.record("a database of a newer Flywheel was migrated")
        } catch let error as MigrationError {
            #expect(error.description.contains("newer Flywheel"))
        }
    }
}

private extension Migration {
    static func v2checksum(_ kind: StoreKind) -> String {
        Schema.migrations[1].checksum(kind == .sqlite ? .sqlite : .postgres)
    }
}

/// Many-row statements take a few forms, which SQLite keeps prepared across batches.
@Suite struct ManyRowStatementTests {
    @Test func rowsGoTwoHundredAStatementAndTheRestInPowersOfTwo() {
        #expect(SQLStatement.chunks(Array(0..<437), of: 200, fewForms: true).map(\.count) == [200, 200, 32, 4, 1])
        #expect(SQLStatement.chunks(Array(0..<437), of: 200, fewForms: true).flatMap { $0 } == Array(0..<437))
        #expect(SQLStatement.chunks([Int](), of: 200, fewForms: true).isEmpty)
        #expect(SQLStatement.chunks(Array(0..<255), of: 300, fewForms: true).map(\.count) == [128, 64, 32, 16, 8, 4, 2, 1])
        #expect(SQLStatement.chunks(Array(0..<437), of: 200).map(\.count) == [200, 200, 37], "a read's lists stay as few statements as can be")
        let rows = (0..<5).map { [Cell.int(Int64($0)), .text("r\($0)")] }
        let statements = SQLStatement.insert("t (a, b, c, d)", key: [.text("k")], rows: rows, then: "ON CONFLICT DO NOTHING")
        #expect(statements.map(\.sql) == ["INSERT INTO t (a, b, c, d) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?), (?, ?, ?) ON CONFLICT DO NOTHING",
                                          "INSERT INTO t (a, b, c, d) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"])
        #expect(statements.flatMap { $0.rows?.rows ?? [] } == rows)
    }

    @Test func postgreSQLSendsTheRowsAsArraysAndTheNullColumnsAsNull() throws {
        let insert = SQLStatement.Rows(target: "t", key: [.text("k")], rows: [[.int(1), .text(#"a"b\c"#), .null], [.null, .text("NULL"), .null]], conflict: "")
        let (sql, binds) = try #require(SQL.unnest(insert))
        #expect(sql == "INSERT INTO t SELECT $1, u.c0, u.c1, NULL FROM UNNEST($2::bigint[], $3::text[]) AS u(c0, c1) ")
        #expect(binds.count == 3)
        #expect(SQL.arrayLiteral([.int(1), .null]) == "{1,NULL}")
        #expect(SQL.arrayLiteral([.text(#"a"b\c"#), .text("NULL")]) == #"{"a\"b\\c","NULL"}"#)
        #expect(SQL.unnest(SQLStatement.Rows(target: "t", key: [], rows: [[.int(1)], [.text("x")]], conflict: ""))?.sql == nil)
    }
}

/// An event's attributes as stored: written and read back as they were given; a row another tool
/// wrote with a repeated key still reads (as Foundation's reader takes it).
@Suite struct EventAttributesTests {
    @Test func attributesComeBackAsGivenAndOtherToolsRowsStillRead() {
        let attributes = ["text": #"价格 "多少" \ {}"#, "message_id": "pm-1", "blank": ""]
        #expect(EventAttributes.encode(attributes).map(EventAttributes.decode) == attributes)
        #expect(EventAttributes.encode([:]) == nil)
        #expect(EventAttributes.decode(#"{"a":"1","a":"2"}"#).count == 1)
        #expect(EventAttributes.decode("not json").isEmpty)
    }
}
