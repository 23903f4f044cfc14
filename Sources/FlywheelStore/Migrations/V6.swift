// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v6 = Migration(
        version: "v6 account tokens",
        sqlite: [
            // Tokens are sealed by the engine before they get here: the columns never hold them in plain text.
            """
            CREATE TABLE account_tokens (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              access_token TEXT NOT NULL CHECK (length(access_token) > 0),
              refresh_token TEXT NOT NULL CHECK (length(refresh_token) > 0),
              scope TEXT NOT NULL,
              access_expires_at INTEGER NOT NULL,
              refresh_expires_at INTEGER NOT NULL,
              updated_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id)
            ) WITHOUT ROWID
            """,
            // The refresher's lookup across tenants, like the projector's.
            "CREATE INDEX account_tokens_by_expiry ON account_tokens(access_expires_at)",
        ],
        postgres: [
            """
            CREATE TABLE account_tokens (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              access_token TEXT NOT NULL CHECK (length(access_token) > 0),
              refresh_token TEXT NOT NULL CHECK (length(refresh_token) > 0),
              scope TEXT NOT NULL,
              access_expires_at BIGINT NOT NULL,
              refresh_expires_at BIGINT NOT NULL,
              updated_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id)
            )
            """,
            "CREATE INDEX account_tokens_by_expiry ON account_tokens(access_expires_at)",
        ]
    )
}
