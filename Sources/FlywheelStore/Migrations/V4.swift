// Frozen: this migration has run on databases in the field. Never edit it; add a new one.
extension Migration {
    static let v4 = Migration(
        version: "v4 console sign-in",
        sqlite: [
            """
            ALTER TABLE users ADD COLUMN password_hash TEXT
            """,
            """
            CREATE TABLE sessions (
              session_hash TEXT NOT NULL PRIMARY KEY,
              tenant_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              csrf TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              expires_at INTEGER NOT NULL,
              FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, user_id)
            )
            """,
        ],
        postgres: [
            """
            ALTER TABLE users ADD COLUMN password_hash TEXT
            """,
            """
            CREATE TABLE sessions (
              session_hash TEXT NOT NULL PRIMARY KEY,
              tenant_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              csrf TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              expires_at BIGINT NOT NULL,
              FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, user_id)
            )
            """,
        ]
    )
}
