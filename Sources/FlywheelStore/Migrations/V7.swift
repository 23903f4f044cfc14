// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v7 = Migration(
        version: "v7 key expiry and revocation, disabled users",
        sqlite: [
            "ALTER TABLE api_keys ADD COLUMN expires_at INTEGER",
            "ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER",
            "ALTER TABLE users ADD COLUMN disabled_at INTEGER",
            // A user's keys are listed, and removed with the user.
            "CREATE INDEX api_keys_by_user ON api_keys(tenant_id, user_id)",
        ],
        postgres: [
            "ALTER TABLE api_keys ADD COLUMN expires_at BIGINT",
            "ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT",
            "ALTER TABLE users ADD COLUMN disabled_at BIGINT",
            "CREATE INDEX api_keys_by_user ON api_keys(tenant_id, user_id)",
        ]
    )
}
