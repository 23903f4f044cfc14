/// The ordinary paths of the projection context, written once for both databases; the batch
/// itself (`project`) is each backend's hot path.
extension ProjectionStore where Self: SQLStore {
    public func accountsNeedingProjection() async throws -> [Account] {
        try await runner.query(SQLStatement("""
            SELECT \(TenancyRows.qualified(TenancyRows.accountColumns, by: "a"))
            FROM accounts a LEFT JOIN projection_checkpoints c ON c.tenant_id = a.tenant_id AND c.account_id = a.account_id
            WHERE a.last_seq > COALESCE(c.last_seq, 0) OR a.rules_version > COALESCE(c.rules_version, 0)
            ORDER BY a.tenant_id, a.account_id
            """)).map(TenancyRows.account)
    }

    public func quarantinedEvents(of account: Account, limit: Int) async throws -> [QuarantinedEvent] {
        try await runner.query(SQLStatement("""
            SELECT seq, event_id, reason, quarantined_at FROM quarantined_events WHERE tenant_id = ? AND account_id = ? ORDER BY seq DESC LIMIT ?
            """, [.text(account.tenantId), .text(account.id), .int(Int64(limit))])).map {
            QuarantinedEvent(seq: try $0.int("seq"), eventId: try $0.text("event_id"), reason: try $0.text("reason"), at: try $0.int("quarantined_at"))
        }
    }

    public func quarantinedCount() async throws -> Int {
        Int(try await runner.query(SQLStatement("SELECT COUNT(*) AS n FROM quarantined_events")).first?.int("n") ?? 0)
    }

    public func dropQuarantined(seq: Int64, of account: Account, audit: AuditEntry) async throws {
        let key: [Cell] = [.text(account.tenantId), .text(account.id), .int(seq)]
        try await runner.transaction([
            .require(SQLStatement("SELECT 1 FROM quarantined_events WHERE tenant_id = ? AND account_id = ? AND seq = ?", key),
                     orElse: .notFound("quarantined event \(seq)")),
            .execute(SQLStatement("DELETE FROM quarantined_events WHERE tenant_id = ? AND account_id = ? AND seq = ?", key)),
            .execute(TenancyRows.record(audit)),
        ])
    }
}

extension FanStore where Self: SQLStore {
    public func projectionPosition(of account: Account) async throws -> ProjectionPosition {
        ProjectionPosition(try await runner.query(ProjectionPosition.query(account)).first)
    }
}

extension ProjectionPosition {
    /// The account's checkpoint, as both stores read it (inside a batch's transaction too).
    public static func query(_ account: Account) -> SQLStatement {
        SQLStatement("SELECT last_seq, rules_version FROM projection_checkpoints WHERE tenant_id = ? AND account_id = ?",
                     [.text(account.tenantId), .text(account.id)])
    }

    /// The position a row of `query` gives; none yet is the start of the log.
    public init(_ row: SQLRow?) {
        self.init(lastSeq: row?.optionalInt("last_seq") ?? 0, rulesVersion: Int(row?.optionalInt("rules_version") ?? 0))
    }
}
