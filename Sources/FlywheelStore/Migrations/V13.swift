// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v13 = Migration(
        version: "v13 shop sync",
        sqlite: [
            // An account's shop: the self-use app that reads its orders (the secret sealed), and how far they are synced.
            """
            CREATE TABLE shop_connections (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              shop_id TEXT NOT NULL,
              app_key TEXT NOT NULL,
              sealed_secret TEXT NOT NULL,
              synced_until INTEGER NOT NULL,
              orders_synced INTEGER NOT NULL,
              last_sync_at INTEGER,
              last_error TEXT,
              connected_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX shop_connections_due ON shop_connections(last_sync_at)",
        ],
        postgres: [
            """
            CREATE TABLE shop_connections (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              shop_id TEXT NOT NULL,
              app_key TEXT NOT NULL,
              sealed_secret TEXT NOT NULL,
              synced_until BIGINT NOT NULL,
              orders_synced BIGINT NOT NULL,
              last_sync_at BIGINT,
              last_error TEXT,
              connected_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX shop_connections_due ON shop_connections(last_sync_at)",
        ])
}
