import FlywheelStore
import GRDB

/// The ordinary SQL paths on SQLite: each transaction in the pool's one writer.
struct SQLiteRunner: SQLRunner {
    let pool: DatabasePool
    var dialect: Schema.Dialect { .sqlite }

    func transaction(_ steps: [SQLStep]) async throws -> [SQLRow] {
        try await SQLiteStore.translatingConstraints {
            try await pool.write { db in
                var last: [SQLRow] = []
                for step in steps {
                    switch step {
                    case .execute(let statement):
                        last = try Self.rows(statement, db)
                    case .require(let statement, let error):
                        last = try Self.rows(statement, db)
                        if last.isEmpty { throw error }
                    case .forbid(let statement, let error):
                        last = try Self.rows(statement, db)
                        if !last.isEmpty { throw error }
                    case .postgresOnly:
                        continue
                    }
                }
                return last
            }
        }
    }

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        try await pool.read { db in try Self.rows(statement, db) }
    }

    static func rows(_ statement: SQLStatement, _ db: Database) throws -> [SQLRow] {
        let prepared = try db.cachedStatement(sql: statement.sql)
        prepared.arguments = StatementArguments(statement.binds.map { cell -> (any DatabaseValueConvertible)? in
            switch cell {
            case .int(let i): i
            case .text(let s): s
            case .null: nil
            }
        })
        return try Row.fetchAll(prepared).map { row in
            var cells: [String: Cell] = [:]
            for (name, value) in row {
                switch value.storage {
                case .int64(let i): cells[name] = .int(i)
                case .string(let s): cells[name] = .text(s)
                case .double(let d): cells[name] = .int(Int64(d))
                case .null, .blob: cells[name] = .null
                }
            }
            return SQLRow(cells)
        }
    }
}
