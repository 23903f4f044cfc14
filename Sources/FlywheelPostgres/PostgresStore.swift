import FlywheelDomain
import FlywheelStore
import Foundation
import Logging
import PostgresNIO

/// The scale-out store: PostgreSQL through postgres-nio. Several `flywheel serve` processes may
/// share one database: appends to an account serialize on its row, and each account is projected
/// by one process at a time, holding its checkpoint row (`FOR UPDATE SKIP LOCKED`); a process that
/// dies mid-batch loses its connection, its transaction rolls back and the lock passes on.
public final class PostgresStore: Store, SQLStore {
    let client: PostgresClient
    let sql: SQL
    /// The projector's fans between batches.
    let fanCache = FanCache()
    /// The events appended and not yet projected, which the projector reads instead of the log.
    let logTail = LogTail()
    let statistics = PlannerStatistics()
    public var runner: any SQLRunner { PostgresRunner(store: self) }
    private let clientRun: Task<Void, Never>

    /// `url`: `postgres://user:password@host:port/database`; `?host=/dir` for a Unix socket;
    /// `?sslmode=require` for TLS.
    public init(url: String, logger: Logger) throws {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
              let database = parts.path.split(separator: "/").first.map(String.init) else {
            throw StoreError.notFound("a database in '\(url)'; use postgres://user:password@host:5432/database")
        }
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let user = parts.user ?? "postgres"
        var config: PostgresClient.Configuration
        if let socketDir = query["host"], socketDir.hasPrefix("/") {
            config = .init(unixSocketPath: "\(socketDir)/.s.PGSQL.\(parts.port ?? 5432)", username: user, password: parts.password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS = query["sslmode"] == "require" ? .require(.makeClientConfiguration()) : .disable
            config = .init(host: parts.host ?? "127.0.0.1", port: parts.port ?? 5432, username: user, password: parts.password, database: database, tls: tls)
        }
        config.options.maximumConnections = 16
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.client = client
        sql = SQL(logger: logger)
        clientRun = Task { await client.run() }
    }

    deinit { clientRun.cancel() }

    public func migrate() async throws {
        try await transaction { db in
            // One migrator at a time when several processes start together.
            try await self.sql.run(db, "SELECT pg_advisory_xact_lock(7415)")
            try await self.sql.run(db, "CREATE TABLE IF NOT EXISTS flywheel_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            // Releases before checksums recorded versions only: adopt them, trusting the text.
            try await self.sql.run(db, "ALTER TABLE flywheel_migrations ADD COLUMN IF NOT EXISTS checksum TEXT")
            var applied: [String: String] = [:]
            for row in try await self.sql.rows(db, "SELECT version, checksum FROM flywheel_migrations") {
                let version = try row.text(0)
                if let checksum = row[1].text {
                    applied[version] = checksum
                } else if let checksum = Schema.migrations.first(where: { $0.version == version })?.checksum(.postgres) {
                    applied[version] = checksum
                    try await self.sql.run(db, "UPDATE flywheel_migrations SET checksum = $1 WHERE version = $2 RETURNING version",
                                           [.cell(.text(checksum)), .cell(.text(version))])
                } else {
                    applied[version] = "unknown"
                }
            }
            for migration in try Schema.pending(applied: applied, dialect: .postgres) {
                for statement in migration.statements(.postgres) {
                    try await db.query(PostgresQuery(unsafeSQL: statement), logger: self.sql.logger)
                }
                try await self.sql.run(db, "INSERT INTO flywheel_migrations (version, checksum) VALUES ($1, $2) RETURNING version",
                                       [.cell(.text(migration.version)), .cell(.text(migration.checksum(.postgres)))])
            }
        }
    }

    /// Creates a database on the same server (for benchmarks and tests that want a clean one).
    public func createDatabase(_ name: String) async throws {
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(try Self.identifier(name))"), logger: sql.logger)
    }

    public func dropDatabase(_ name: String) async throws {
        try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(try Self.identifier(name)) WITH (FORCE)"), logger: sql.logger)
    }

    /// The same URL naming another database.
    public static func url(_ url: String, database: String) -> String {
        guard var parts = URLComponents(string: url) else { return url }
        parts.path = "/" + database
        return parts.string ?? url
    }

    static func identifier(_ name: String) throws -> String {
        guard !name.isEmpty, name.count < 60, name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else {
            throw StoreError.notFound("a valid database name in '\(name)' (lowercase letters, digits, _)")
        }
        return name
    }

    // MARK: Projection

    // MARK: Helpers

    static let eventColumns = "seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes"
    /// The account's stream in the log, for statements whose $1 and $2 are its tenant and account ids.
    static let stream = "(SELECT stream FROM event_streams WHERE tenant_id = $1 AND account_id = $2)"
    static let fanColumns = FanColumns.names.joined(separator: ", ")

    /// A transaction whose constraint violations come back as `StoreError`s naming the column.
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { db in
                try await db.withTransaction(logger: self.sql.logger) { db in try await body(db) }
            }
        } catch let error as PostgresTransactionError {
            throw Self.translate(error.closureError ?? error.beginError ?? error.commitError ?? error)
        } catch {
            throw Self.translate(error)
        }
    }

    static func translate(_ error: any Error) -> any Error {
        guard let psql = error as? PSQLError else { return error }
        guard let state = psql.serverInfo?[.sqlState] else { return PostgresFailure(description: "\(psql.code): \(psql.underlying.map { "\($0)" } ?? "no detail")") }
        let detail = psql.serverInfo?[.detail] ?? psql.serverInfo?[.message] ?? "constraint failed"
        switch state {
        // The database's words stay here: the error names the field as the API does.
        case "23505": return StoreError.uniqueValueTaken((psql.serverInfo?[.constraintName] ?? "") + " " + detail)
        case "23503": return StoreError.notFound("a referenced record does not exist")
        default: return PostgresFailure(description: "PostgreSQL error \(state): \(psql.serverInfo?[.message] ?? "")")
        }
    }

    func read(_ text: String, _ binds: [Cell]) async throws -> [[Cell]] {
        try await read(text, binds: binds.map(SQL.Bind.cell))
    }

    func read(_ text: String, binds: [SQL.Bind]) async throws -> [[Cell]] {
        do {
            return try await client.withConnection { db in try await self.sql.rows(db, text, binds) }
        } catch {
            throw Self.translate(error)
        }
    }

    func record(_ audit: AuditEntry, _ db: PostgresConnection) async throws {
        _ = try await sql.rows(db, TenancyRows.record(audit))
    }

    func rules(of account: Account, _ db: PostgresConnection) async throws -> VersionedRules {
        try TenancyRows.rules(try await sql.rows(db, TenancyRows.rulesQuery(of: account)), of: account)
    }

    static func storedEvent(_ row: [Cell]) throws -> StoredEvent {
        guard let kind = EventCodes.kinds.value(try row.int(2)), let domain = EventCodes.domains.value(try row.int(5)),
              let channel = EventCodes.channels.value(try row.int(6)) else {
            throw StoreError.corrupt("events row \(try row.int(0)) has an unknown kind, domain or channel")
        }
        return StoredEvent(seq: try row.int(0), event: FanEvent(
            id: try row.text(1), kind: kind, openId: try row.text(3), occurredAt: try row.int(4), domain: domain, channel: channel,
            amount: try row.int(7), ref: row[8].text, attributes: row[9].text.map(EventAttributes.decode) ?? [:]))
    }
}

/// A PostgreSQL failure with the server's own words (postgres-nio hides them by default).
public struct PostgresFailure: Error, CustomStringConvertible {
    public var description: String
}

extension Array where Element == Cell {
    var binds: [SQL.Bind] { map(SQL.Bind.cell) }
}
