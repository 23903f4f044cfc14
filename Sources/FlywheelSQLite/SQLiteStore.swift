import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, many readers, one writer.
public final class SQLiteStore: Store, SQLStore {
    let pool: DatabasePool
    /// The projector's fans between batches.
    let fanCache = FanCache()
    /// The projector's whole batches held beside a bulk append.
    let held = HeldBatches()
    /// The events appended and not yet projected, which the projector reads instead of the log.
    let logTail = LogTail()
    private let checkpointer: Checkpointer
    public var runner: any SQLRunner { SQLiteRunner(pool: pool) }

    /// Opens (creating if needed) the database file at `path`.
    public init(path: String) throws {
        let checkpointer = Checkpointer(path: path)
        self.checkpointer = checkpointer
        var config = Configuration()
        config.prepareDatabase { db in
            if !db.configuration.readonly { checkpointer.install(on: db.sqliteConnection) }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA busy_timeout = 5000")
            // 64 MB of page cache for the writer: the event and fan indexes of a busy account stay in
            // memory. Readers (up to 8, the projector's snapshots among them) get 8 MB each, so
            // memory stays flat as they take turns.
            try db.execute(sql: db.configuration.readonly ? "PRAGMA cache_size = -8192" : "PRAGMA cache_size = -65536")
            db.add(function: DatabaseFunction("flywheel_matches", argumentCount: 2, pure: true) { values in
                SQLRegex.matches(String.fromDatabaseValue(values[0]), String.fromDatabaseValue(values[1]))
            })
            // v22 fills `event_ids` from the log with it.
            db.add(function: DatabaseFunction("flywheel_event_id_hash", argumentCount: 1, pure: true) { values in
                String.fromDatabaseValue(values[0]).map(EventLog.Appender.idHash)
            })
        }
        config.maximumReaderCount = 8
        let pool = try DatabasePool(path: path, configuration: config)
        self.pool = pool
        // Weakly: the hook keeps the checkpointer for the connection's life, and the store's end lets the pool go.
        checkpointer.useWriter { [weak pool] work in
            pool?.asyncWriteWithoutTransaction { db in
                if let connection = db.sqliteConnection { work(connection) }
            }
        }
    }

    deinit { checkpointer.close() }

    public func migrate() async throws {
        try Self.migrate(pool)
    }

    // MARK: Projection

    // MARK: Helpers

    /// A write that turns constraint violations into `StoreError`s naming the column.
    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await Self.translatingConstraints { try await self.pool.write(body) }
    }

    static func translatingConstraints<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            let message = error.message ?? "constraint failed"
            if message.contains("FOREIGN KEY") { throw StoreError.notFound("a referenced record does not exist") }
            // The database's words stay here: the error names the field as the API does.
            throw StoreError.uniqueValueTaken(message)
        }
    }

    static func record(_ audit: AuditEntry, _ db: Database) throws {
        _ = try SQLiteRunner.rows(TenancyRows.record(audit), db)
    }

    static func rules(of account: Account, _ db: Database) throws -> VersionedRules {
        try TenancyRows.rules(try SQLiteRunner.rows(TenancyRows.rulesQuery(of: account), db), of: account)
    }
}
