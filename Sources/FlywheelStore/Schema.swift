/// One schema migration: literal SQL per dialect, written once and frozen when it lands (each in
/// `Migrations/`). Nothing in it is computed from live code, so a database upgraded from any
/// release ends up exactly like a fresh one.
public struct Migration: Sendable {
    public let version: String
    let sqlite: [String]
    let postgres: [String]

    public func statements(_ dialect: Schema.Dialect) -> [String] { dialect == .sqlite ? sqlite : postgres }

    /// FNV-1a over the statements: recorded when the migration runs, compared at every start, so
    /// a migration edited after it ran is caught before it can make two databases differ.
    public func checksum(_ dialect: Schema.Dialect) -> String {
        String(fnv1a(statements(dialect).joined(separator: ";\n").utf8), radix: 16)
    }
}

/// A database the migrations cannot be applied to as it is.
public struct MigrationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
}

/// The schema: every table's key starts with `tenant_id` (docs/scaling.md); kinds, channels and
/// domains are checked in code, not by CHECK lists that would have to grow.
public enum Schema {
    public enum Dialect: Sendable { case sqlite, postgres }

    /// In order. Append a new one; never edit one that has landed.
    public static let migrations: [Migration] = [.v1, .v2, .v3, .v4, .v5, .v6, .v7, .v8, .v9, .v10, .v11, .v12, .v13, .v14, .v15, .v16, .v17, .v18, .v19, .v20, .v21, .v22]

    /// The migrations still to run on a database that has run `applied` (version → recorded
    /// checksum), after checking that what it ran is what this build has.
    public static func pending(applied: [String: String], dialect: Dialect) throws -> [Migration] {
        let known = Set(migrations.map(\.version))
        if let unknown = applied.keys.sorted().first(where: { !known.contains($0) }) {
            throw MigrationError(description: "the database was migrated by a newer Flywheel (migration '\(unknown)'); run that version or a later one")
        }
        for migration in migrations {
            if let recorded = applied[migration.version], recorded != migration.checksum(dialect) {
                throw MigrationError(description: """
                    migration '\(migration.version)' differs from the one this database ran (checksum \(recorded) there, \
                    \(migration.checksum(dialect)) in this build): a landed migration was edited; restore it and add a new migration instead
                    """)
            }
        }
        return migrations.filter { applied[$0.version] == nil }
    }
}
