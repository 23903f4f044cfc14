import FlywheelStore
import GRDB

extension SQLiteStore {
    /// Runs the pending migrations in one transaction, recording each with its checksum.
    static func migrate(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS flywheel_migrations (
                      version TEXT NOT NULL PRIMARY KEY, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)
                    """)
                // Releases before checksums recorded what ran in GRDB's table: adopt it, trusting the text.
                if try db.tableExists("grdb_migrations") {
                    for version in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") {
                        let checksum = Schema.migrations.first { $0.version == version }?.checksum(.sqlite) ?? "unknown"
                        try db.execute(sql: "INSERT OR IGNORE INTO flywheel_migrations (version, checksum, applied_at) VALUES (?, ?, 0)",
                                       arguments: [version, checksum])
                    }
                    try db.execute(sql: "DROP TABLE grdb_migrations")
                }
                let applied = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT version, checksum FROM flywheel_migrations")
                    .map { ($0["version"] as String, $0["checksum"] as String) })
                for migration in try Schema.pending(applied: applied, dialect: .sqlite) {
                    for statement in migration.statements(.sqlite) { try db.execute(sql: statement) }
                    try db.execute(sql: """
                        INSERT INTO flywheel_migrations (version, checksum, applied_at) VALUES (?, ?, CAST(strftime('%s','now') AS INTEGER) * 1000)
                        """, arguments: [migration.version, migration.checksum(.sqlite)])
                }
                return .commit
            }
        }
    }
}
