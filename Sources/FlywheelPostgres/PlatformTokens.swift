import FlywheelStore
import PostgresNIO

extension PostgresStore {
    public func saveTokens(_ tokens: SealedAccountTokens, of account: Account, audit: AuditEntry) async throws {
        try await transaction { db in
            try await self.sql.run(db, """
                INSERT INTO account_tokens (tenant_id, account_id, access_token, refresh_token, scope, access_expires_at, refresh_expires_at, updated_at)
                VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
                ON CONFLICT (tenant_id, account_id) DO UPDATE SET access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
                  scope = EXCLUDED.scope, access_expires_at = EXCLUDED.access_expires_at, refresh_expires_at = EXCLUDED.refresh_expires_at,
                  updated_at = EXCLUDED.updated_at
                """, [.text(account.tenantId), .text(account.id), .text(tokens.accessToken), .text(tokens.refreshToken), .text(tokens.scope),
                      .int(tokens.accessExpiresAt), .int(tokens.refreshExpiresAt), .int(tokens.updatedAt)].binds)
            try await self.record(audit, db)
        }
    }

    public func tokens(of account: Account) async throws -> SealedAccountTokens? {
        try await read("""
            SELECT \(Self.tokenColumns) FROM account_tokens t WHERE t.tenant_id = $1 AND t.account_id = $2
            """, [.text(account.tenantId), .text(account.id)]).first.map { try Self.sealedTokens($0, from: 0) }
    }

    public func accountsWithTokensExpiring(before: Int64, limit: Int) async throws -> [(account: Account, tokens: SealedAccountTokens)] {
        try await read("""
            SELECT a.tenant_id, a.account_id, a.name, a.app_id, a.open_id, a.time_zone, a.created_at, \(Self.tokenColumns)
            FROM account_tokens t JOIN accounts a ON a.tenant_id = t.tenant_id AND a.account_id = t.account_id
            WHERE t.access_expires_at < $1 ORDER BY t.access_expires_at, t.tenant_id, t.account_id LIMIT $2
            """, [.int(before), .int(Int64(limit))]).map { (account: try Self.account($0), tokens: try Self.sealedTokens($0, from: 7)) }
    }

    static let tokenColumns = "t.access_token, t.refresh_token, t.scope, t.access_expires_at, t.refresh_expires_at, t.updated_at"

    /// The token columns of `row`, starting at column `i`.
    static func sealedTokens(_ row: [Cell], from i: Int) throws -> SealedAccountTokens {
        SealedAccountTokens(accessToken: try row.text(i), refreshToken: try row.text(i + 1), scope: try row.text(i + 2),
                            accessExpiresAt: try row.int(i + 3), refreshExpiresAt: try row.int(i + 4), updatedAt: try row.int(i + 5))
    }
}
