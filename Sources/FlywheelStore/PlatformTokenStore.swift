/// An account's platform tokens as stored: both sealed (`TokenSealer`, AES-GCM bound to the account
/// and the column), never in plain text, so a copy of the database does not act for the account.
public struct SealedAccountTokens: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String
    /// Comma-separated scopes the account granted.
    public var scope: String
    /// When the access token expires (ms); the refresher renews it a day before.
    public var accessExpiresAt: Int64
    /// When the refresh token expires (ms): after that the account must be connected again.
    public var refreshExpiresAt: Int64
    public var updatedAt: Int64

    public init(accessToken: String, refreshToken: String, scope: String, accessExpiresAt: Int64, refreshExpiresAt: Int64, updatedAt: Int64) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.scope = scope
        self.accessExpiresAt = accessExpiresAt
        self.refreshExpiresAt = refreshExpiresAt
        self.updatedAt = updatedAt
    }
}

/// The tokens an account granted the app by OAuth: what Flywheel acts for the account with.
public protocol PlatformTokenStore: Sendable {
    /// Saves the account's tokens, replacing any it had, with the audit entry in one transaction.
    func saveTokens(_ tokens: SealedAccountTokens, of account: Account, audit: AuditEntry) async throws
    /// The account's tokens, or nil when it was never connected.
    func tokens(of account: Account) async throws -> SealedAccountTokens?
    /// Accounts of every tenant whose access token expires before `before` (ms) and whose refresh
    /// token still works at `now`, the soonest first, at most `limit`: what the refresher renews
    /// (accounts past saving never crowd out the ones it can renew).
    func accountsWithTokensExpiring(before: Int64, refreshableAt now: Int64, limit: Int) async throws -> [(account: Account, tokens: SealedAccountTokens)]
}

/// Platform tokens, written once for both databases.
extension PlatformTokenStore where Self: SQLStore {
    public func saveTokens(_ tokens: SealedAccountTokens, of account: Account, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("SELECT 1 FROM accounts WHERE tenant_id = ? AND account_id = ?", [.text(account.tenantId), .text(account.id)]),
                     orElse: .notFound("account \(account.id)")),
            .execute(SQLStatement("""
                INSERT INTO account_tokens (tenant_id, account_id, access_token, refresh_token, scope, access_expires_at, refresh_expires_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant_id, account_id) DO UPDATE SET access_token = excluded.access_token, refresh_token = excluded.refresh_token,
                  scope = excluded.scope, access_expires_at = excluded.access_expires_at, refresh_expires_at = excluded.refresh_expires_at,
                  updated_at = excluded.updated_at
                """, [.text(account.tenantId), .text(account.id), .text(tokens.accessToken), .text(tokens.refreshToken), .text(tokens.scope),
                      .int(tokens.accessExpiresAt), .int(tokens.refreshExpiresAt), .int(tokens.updatedAt)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func tokens(of account: Account) async throws -> SealedAccountTokens? {
        try await runner.query(SQLStatement("SELECT \(Self.tokenColumns) FROM account_tokens t WHERE t.tenant_id = ? AND t.account_id = ?",
                                            [.text(account.tenantId), .text(account.id)])).first.map(Self.sealedTokens)
    }

    public func accountsWithTokensExpiring(before: Int64, refreshableAt now: Int64, limit: Int) async throws -> [(account: Account, tokens: SealedAccountTokens)] {
        let accountColumns = TenancyRows.qualified(TenancyRows.accountColumns, by: "a")
        return try await runner.query(SQLStatement("""
            SELECT \(accountColumns), \(Self.tokenColumns)
            FROM account_tokens t JOIN accounts a ON a.tenant_id = t.tenant_id AND a.account_id = t.account_id
            WHERE t.access_expires_at < ? AND t.refresh_expires_at > ? ORDER BY t.access_expires_at, t.tenant_id, t.account_id LIMIT ?
            """, [.int(before), .int(now), .int(Int64(limit))])).map { (account: try TenancyRows.account($0), tokens: try Self.sealedTokens($0)) }
    }

    static var tokenColumns: String { "t.access_token, t.refresh_token, t.scope, t.access_expires_at, t.refresh_expires_at, t.updated_at" }

    static func sealedTokens(_ row: SQLRow) throws -> SealedAccountTokens {
        SealedAccountTokens(accessToken: try row.text("access_token"), refreshToken: try row.text("refresh_token"), scope: try row.text("scope"),
                            accessExpiresAt: try row.int("access_expires_at"), refreshExpiresAt: try row.int("refresh_expires_at"),
                            updatedAt: try row.int("updated_at"))
    }
}
