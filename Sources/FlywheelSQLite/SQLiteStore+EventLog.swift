import FlywheelDomain
import FlywheelStore
import Foundation
import GRDB

/// The event log on SQLite: deliveries and appends in the one writer.
extension SQLiteStore {
    public func ingest(_ deliveries: [IncomingDelivery]) async throws -> [DeliveryOutcome] {
        let (outcomes, appended) = try await pool.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO webhook_deliveries (tenant_id, app_id, msg_id, event, account_id, received_at, body)
                VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING
                """)
            // One appender for the group: its statement is prepared once, each account's head read once.
            var appender = try EventLog.Appender(db)
            let outcomes: [DeliveryOutcome] = try deliveries.map { incoming in
                let delivery = incoming.delivery
                try insert.execute(arguments: [delivery.tenantId, delivery.appId, delivery.msgId, delivery.event, delivery.accountId,
                                               delivery.receivedAt, delivery.body])
                guard db.changesCount == 1 else { return .duplicate }
                guard let accountId = delivery.accountId else { return .stored(events: 0) }
                var stored = 0
                for event in incoming.events where try appender.append(AccountEvent(tenantId: delivery.tenantId, accountId: accountId, event: event)) {
                    stored += 1
                }
                return .stored(events: stored)
            }
            return (outcomes, try appender.finish())
        }
        logTail.committed(appended)
        return outcomes
    }

    public func append(_ events: [AccountEvent], progress: @Sendable (Int) -> Void) async throws -> AppendOutcome {
        let (outcome, appended) = try await pool.write { db in try EventLog.append(events, db, progress: progress) }
        logTail.committed(appended)
        return outcome
    }
}

extension SQLiteStore {
    public func loggedEvents(of account: Account, after seq: Int64, limit: Int) async throws -> [StoredEvent] {
        try await pool.read { db in
            guard let stream = try EventLog.stream(of: account, db) else { return [] }
            let select = try RawStatement(db, sql: "SELECT \(EventLog.columnList) FROM events WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?")
            select.bind(1, stream)
            select.bind(2, seq)
            select.bind(3, Int64(limit))
            return try EventLog.readBatch(select).events
        }
    }
}
