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
    /// Accounts of every tenant whose access token expires before `before` (ms), the soonest
    /// first, at most `limit`: what the refresher renews.
    func accountsWithTokensExpiring(before: Int64, limit: Int) async throws -> [(account: Account, tokens: SealedAccountTokens)]
}
