import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB

/// The projector's batches and the quarantine on SQLite.
extension SQLiteStore {
    public func project(_ account: Account, limit: Int, _ step: @Sendable (ProjectionBatch) throws -> ProjectionResult) async throws -> Int {
        try await pool.write { db in try Projection.run(account, limit: limit, db, step) }
    }

    public func quarantine(_ account: Account, after lastSeq: Int64, reason: String, at: Int64) async throws -> Bool {
        try await pool.write { db in
            let rules = try Self.rules(of: account, db)
            let checkpoint = try Int64.fetchOne(db, sql: "SELECT last_seq FROM projection_checkpoints WHERE tenant_id = ? AND account_id = ?",
                                                arguments: [account.tenantId, account.id]) ?? 0
            guard checkpoint == lastSeq, rules.version == rules.appliedVersion,
                  let row = try Row.fetchOne(db, sql: """
                    SELECT seq, event_id FROM events WHERE tenant_id = ? AND account_id = ? AND seq > ? ORDER BY seq LIMIT 1
                    """, arguments: [account.tenantId, account.id, lastSeq]) else { return false }
            let seq: Int64 = row["seq"]
            try db.execute(sql: """
                INSERT OR IGNORE INTO quarantined_events (tenant_id, account_id, seq, event_id, reason, quarantined_at) VALUES (?,?,?,?,?,?)
                """, arguments: [account.tenantId, account.id, seq, row["event_id"] as String, reason, at])
            try db.execute(sql: """
                INSERT INTO projection_checkpoints (tenant_id, account_id, last_seq, rules_version) VALUES (?,?,?,?)
                ON CONFLICT DO UPDATE SET last_seq = excluded.last_seq
                """, arguments: [account.tenantId, account.id, seq, rules.version])
            return true
        }
    }

    public func retryQuarantined(seq: Int64, of account: Account, check: @Sendable (FanEvent) throws -> Void, audit: AuditEntry) async throws -> Int64 {
        try await pool.write { db in
            let key: StatementArguments = [account.tenantId, account.id, seq]
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM quarantined_events WHERE tenant_id = ? AND account_id = ? AND seq = ?", arguments: key) != nil else {
                throw StoreError.notFound("quarantined event \(seq)")
            }
            let select = try RawStatement(db, sql: "SELECT \(EventLog.columnList) FROM events WHERE tenant_id = ? AND account_id = ? AND seq = ?")
            select.bind(1, account.tenantId)
            select.bind(2, account.id)
            select.bind(3, seq)
            guard var event = try EventLog.readBatch(select).events.first?.event else { throw StoreError.corrupt(EventLog.unreadableReason) }
            try check(event)
            event.id = "retry:\(seq)"
            // An event that already has the retry's id was imported by someone else: refuse rather than lose this one.
            guard try EventLog.append([AccountEvent(tenantId: account.tenantId, accountId: account.id, event: event)], db, progress: { _ in }).inserted == 1 else {
                throw StoreError.conflict(field: "seq", "an event with the id \(event.id) is in the log already")
            }
            try db.execute(sql: "DELETE FROM quarantined_events WHERE tenant_id = ? AND account_id = ? AND seq = ?", arguments: key)
            try Self.record(audit, db)
            return try Int64.fetchOne(db, sql: "SELECT last_seq FROM accounts WHERE tenant_id = ? AND account_id = ?",
                                      arguments: [account.tenantId, account.id]) ?? 0
        }
    }
}
