import FlywheelStore
import PostgresNIO

/// The ordinary SQL paths on PostgreSQL: each transaction on one pooled connection.
struct PostgresRunner: SQLRunner {
    let store: PostgresStore
    var dialect: Schema.Dialect { .postgres }

    func transaction(_ steps: [SQLStep]) async throws -> [SQLRow] {
        try await store.transaction { db in
            var last: [SQLRow] = []
            for step in steps {
                switch step {
                case .execute(let statement), .postgresOnly(let statement):
                    last = try await store.sql.rows(db, statement)
                case .require(let statement, let error):
                    last = try await store.sql.rows(db, statement)
                    if last.isEmpty { throw error }
                case .forbid(let statement, let error):
                    last = try await store.sql.rows(db, statement)
                    if !last.isEmpty { throw error }
                }
            }
            return last
        }
    }

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        do {
            return try await store.client.withConnection { db in try await store.sql.rows(db, statement) }
        } catch {
            throw PostgresStore.translate(error)
        }
    }
}
