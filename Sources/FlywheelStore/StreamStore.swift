import FlywheelDomain
import Foundation

/// The change feed and the endpoints it is delivered to.
public protocol StreamStore: Sendable {
    /// The tenants' changes after `seq`, oldest first: of `kinds` (every kind when empty), of one
    /// account when given.
    func changes(tenantIds: [String], after seq: Int64, kinds: Set<Change.Kind>, accountId: String?, limit: Int) async throws -> [Change]
    /// The newest change's seq (0 before any): where a new endpoint starts.
    func lastChange() async throws -> Int64
    /// Forgets changes recorded before `before`; returns how many.
    func pruneChanges(before: Int64) async throws -> Int

    func createWebhookEndpoint(_ endpoint: WebhookEndpoint, audit: AuditEntry) async throws
    func webhookEndpoints(tenantId: String) async throws -> [WebhookEndpoint]
    func deleteWebhookEndpoint(_ id: String, tenantId: String, audit: AuditEntry) async throws
    /// Puts an endpoint to work again from where it stopped, its failures forgotten.
    func enableWebhookEndpoint(_ id: String, tenantId: String, audit: AuditEntry) async throws
    /// Active endpoints of every tenant due for an attempt, each leased to the caller until
    /// `leaseUntil` so two servers do not deliver the same changes.
    func claimWebhookEndpoints(now: Int64, leaseUntil: Int64, limit: Int) async throws -> [WebhookEndpoint]
    /// Records an attempt (nil when nothing was sent) and the endpoint as it now stands (its
    /// cursor moved on after a success; its failures, next attempt and state otherwise), with
    /// `audit` when it was disabled.
    func recordAttempt(_ attempt: WebhookAttempt?, endpoint: WebhookEndpoint, audit: AuditEntry?) async throws
    /// Newest first.
    func webhookAttempts(endpointId: String, tenantId: String, limit: Int) async throws -> [WebhookAttempt]
}

/// The stream context, written once for both databases.
extension StreamStore where Self: SQLStore {
    public func changes(tenantIds: [String], after seq: Int64, kinds: Set<Change.Kind>, accountId: String?, limit: Int) async throws -> [Change] {
        guard !tenantIds.isEmpty else { return [] }
        var sql = "SELECT seq, tenant_id, account_id, kind, open_id, at, data FROM changes WHERE tenant_id IN (\(SQLStatement.placeholders(tenantIds.count))) AND seq > ?"
        var binds: [Cell] = tenantIds.map(Cell.text) + [.int(seq)]
        if !kinds.isEmpty {
            sql += " AND kind IN (\(SQLStatement.placeholders(kinds.count)))"
            binds += kinds.map(\.rawValue).sorted().map(Cell.text)
        }
        if let accountId {
            sql += " AND account_id = ?"
            binds.append(.text(accountId))
        }
        return try await runner.query(SQLStatement(sql + " ORDER BY seq LIMIT ?", binds + [.int(Int64(limit))])).compactMap { row in
            // A kind this version does not know (written by a newer one) is passed over.
            guard let kind = Change.Kind(rawValue: try row.text("kind")) else { return nil }
            return Change(seq: try row.int("seq"), tenantId: try row.text("tenant_id"), accountId: try row.text("account_id"), kind: kind,
                          openId: try row.text("open_id"), at: try row.int("at"), data: Self.data(try row.text("data")))
        }
    }

    /// The trigger's JSON object as text values; nulls left out.
    static func data(_ json: String) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return [:] }
        return object.compactMapValues { value in
            switch value {
            case let text as String: text
            case let number as NSNumber: number.stringValue
            default: nil
            }
        }
    }

    public func lastChange() async throws -> Int64 {
        try await runner.query(SQLStatement("SELECT COALESCE(MAX(seq), 0) AS seq FROM changes")).first?.int("seq") ?? 0
    }

    public func pruneChanges(before: Int64) async throws -> Int {
        try await runner.transaction([.execute(SQLStatement("DELETE FROM changes WHERE created_at < ? RETURNING seq", [.int(before)]))]).count
    }

    public func createWebhookEndpoint(_ endpoint: WebhookEndpoint, audit: AuditEntry) async throws {
        try await runner.transaction([.execute(Self.upsert(endpoint, insert: true)), .execute(TenancyRows.record(audit))])
    }

    public func webhookEndpoints(tenantId: String) async throws -> [WebhookEndpoint] {
        try await runner.query(SQLStatement("SELECT * FROM webhook_endpoints WHERE tenant_id = ? ORDER BY created_at, endpoint_id", [.text(tenantId)]))
            .map(Self.endpoint)
    }

    public func deleteWebhookEndpoint(_ id: String, tenantId: String, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("DELETE FROM webhook_endpoints WHERE tenant_id = ? AND endpoint_id = ? RETURNING endpoint_id", [.text(tenantId), .text(id)]),
                     orElse: .notFound("webhook endpoint \(id)")),
            .execute(SQLStatement("DELETE FROM webhook_attempts WHERE tenant_id = ? AND endpoint_id = ?", [.text(tenantId), .text(id)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func enableWebhookEndpoint(_ id: String, tenantId: String, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("""
                UPDATE webhook_endpoints SET state = 'active', failures = 0, next_attempt_at = 0, disabled_reason = NULL
                WHERE tenant_id = ? AND endpoint_id = ? RETURNING endpoint_id
                """, [.text(tenantId), .text(id)]), orElse: .notFound("webhook endpoint \(id)")),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func claimWebhookEndpoints(now: Int64, leaseUntil: Int64, limit: Int) async throws -> [WebhookEndpoint] {
        let due = try await runner.query(SQLStatement("""
            SELECT tenant_id, endpoint_id FROM webhook_endpoints e WHERE state = 'active' AND next_attempt_at <= ?
            AND EXISTS (SELECT 1 FROM changes c WHERE c.tenant_id = e.tenant_id AND c.seq > e.cursor) ORDER BY next_attempt_at LIMIT ?
            """, [.int(now), .int(Int64(limit))]))
        var claimed: [WebhookEndpoint] = []
        for row in due {
            // Taken only if no other server took it since the look: the lease moves next_attempt_at past now.
            let rows = try await runner.transaction([.execute(SQLStatement("""
                UPDATE webhook_endpoints SET next_attempt_at = ? WHERE tenant_id = ? AND endpoint_id = ? AND state = 'active' AND next_attempt_at <= ?
                RETURNING *
                """, [.int(leaseUntil), .text(try row.text("tenant_id")), .text(try row.text("endpoint_id")), .int(now)]))])
            claimed += try rows.map(Self.endpoint)
        }
        return claimed
    }

    public func recordAttempt(_ attempt: WebhookAttempt?, endpoint: WebhookEndpoint, audit: AuditEntry?) async throws {
        var steps: [SQLStep] = [.execute(Self.upsert(endpoint, insert: false))]
        if let a = attempt {
            steps.append(.execute(SQLStatement("""
                INSERT INTO webhook_attempts (tenant_id, delivery_id, endpoint_id, first_seq, last_seq, status, error, milliseconds, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(endpoint.tenantId), .text(a.id), .text(endpoint.id), .int(a.firstSeq), .int(a.lastSeq),
                      .nullable(a.status.map(Int64.init)), .nullable(a.error), .int(Int64(a.milliseconds)), .int(a.at)])))
        }
        if let audit { steps.append(.execute(TenancyRows.record(audit))) }
        try await runner.transaction(steps)
    }

    public func webhookAttempts(endpointId: String, tenantId: String, limit: Int) async throws -> [WebhookAttempt] {
        try await runner.query(SQLStatement("""
            SELECT * FROM webhook_attempts WHERE tenant_id = ? AND endpoint_id = ? ORDER BY at DESC, delivery_id DESC LIMIT ?
            """, [.text(tenantId), .text(endpointId), .int(Int64(limit))])).map { row in
            WebhookAttempt(id: try row.text("delivery_id"), endpointId: try row.text("endpoint_id"), firstSeq: try row.int("first_seq"),
                            lastSeq: try row.int("last_seq"), status: row.optionalInt("status").map(Int.init), error: row.optionalText("error"),
                            milliseconds: Int(try row.int("milliseconds")), at: try row.int("at"))
        }
    }

    static func upsert(_ e: WebhookEndpoint, insert: Bool) -> SQLStatement {
        let kinds = Cell.text(e.kinds.map(\.rawValue).sorted().joined(separator: ","))
        if insert {
            return SQLStatement("""
                INSERT INTO webhook_endpoints (tenant_id, endpoint_id, url, secret, kinds, cursor, state, failures, next_attempt_at, disabled_reason, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(e.tenantId), .text(e.id), .text(e.url), .text(e.secret), kinds, .int(e.cursor), .text(e.state.rawValue),
                      .int(Int64(e.failures)), .int(e.nextAttemptAt), .nullable(e.disabledReason), .int(e.createdAt)])
        }
        return SQLStatement("""
            UPDATE webhook_endpoints SET cursor = ?, state = ?, failures = ?, next_attempt_at = ?, disabled_reason = ? WHERE tenant_id = ? AND endpoint_id = ?
            """, [.int(e.cursor), .text(e.state.rawValue), .int(Int64(e.failures)), .int(e.nextAttemptAt), .nullable(e.disabledReason),
                  .text(e.tenantId), .text(e.id)])
    }

    static func endpoint(_ row: SQLRow) throws -> WebhookEndpoint {
        WebhookEndpoint(tenantId: try row.text("tenant_id"), id: try row.text("endpoint_id"), url: try row.text("url"), secret: try row.text("secret"),
                        kinds: Set(try row.text("kinds").split(separator: ",").compactMap { Change.Kind(rawValue: String($0)) }),
                        cursor: try row.int("cursor"), state: WebhookEndpoint.State(rawValue: try row.text("state")) ?? .disabled,
                        failures: Int(try row.int("failures")), nextAttemptAt: try row.int("next_attempt_at"), disabledReason: row.optionalText("disabled_reason"),
                        createdAt: try row.int("created_at"))
    }
}
