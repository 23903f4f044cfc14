import FlywheelStore
import GRDB

extension SQLiteStore {
    public func saveTokens(_ tokens: SealedAccountTokens, of account: Account, audit: AuditEntry) async throws {
        do {
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO account_tokens (tenant_id, account_id, access_token, refresh_token, scope, access_expires_at, refresh_expires_at, updated_at)
                    VALUES (?,?,?,?,?,?,?,?)
                    ON CONFLICT (tenant_id, account_id) DO UPDATE SET access_token = excluded.access_token, refresh_token = excluded.refresh_token,
                      scope = excluded.scope, access_expires_at = excluded.access_expires_at, refresh_expires_at = excluded.refresh_expires_at,
                      updated_at = excluded.updated_at
                    """, arguments: [account.tenantId, account.id, tokens.accessToken, tokens.refreshToken, tokens.scope,
                                     tokens.accessExpiresAt, tokens.refreshExpiresAt, tokens.updatedAt])
                try Self.record(audit, db)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            // The account is gone (foreign key), or a token is empty (check).
            if (error.message ?? "").contains("FOREIGN KEY") { throw StoreError.notFound("account \(account.id)") }
            throw StoreError.conflict(field: "tokens", error.message ?? "constraint failed")
        }
    }

    public func tokens(of account: Account) async throws -> SealedAccountTokens? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM account_tokens WHERE tenant_id = ? AND account_id = ?",
                             arguments: [account.tenantId, account.id]).map(Self.sealedTokens)
        }
    }

    public func accountsWithTokensExpiring(before: Int64, limit: Int) async throws -> [(account: Account, tokens: SealedAccountTokens)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT a.*, t.access_token, t.refresh_token, t.scope, t.access_expires_at, t.refresh_expires_at, t.updated_at
                FROM account_tokens t JOIN accounts a ON a.tenant_id = t.tenant_id AND a.account_id = t.account_id
                WHERE t.access_expires_at < ? ORDER BY t.access_expires_at, t.tenant_id, t.account_id LIMIT ?
                """, arguments: [before, limit]).map { (account: Self.account($0), tokens: Self.sealedTokens($0)) }
        }
    }

    static func sealedTokens(_ row: Row) -> SealedAccountTokens {
        SealedAccountTokens(accessToken: row["access_token"], refreshToken: row["refresh_token"], scope: row["scope"],
                            accessExpiresAt: row["access_expires_at"], refreshExpiresAt: row["refresh_expires_at"], updatedAt: row["updated_at"])
    }
}
