import FlywheelStore
import GRDB

extension Schema {
    /// The shared migrations, registered with GRDB's migrator (which records what has run).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations(.sqlite) {
            migrator.registerMigration(migration.version) { db in
                for statement in migration.statements { try db.execute(sql: statement) }
            }
        }
        return migrator
    }
}
