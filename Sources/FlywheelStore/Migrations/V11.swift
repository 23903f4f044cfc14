// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v11 = Migration(
        version: "v11 coupons",
        sqlite: [
            // Coupon templates: `issued` never passes `stock` (the claim's update checks it, and so does the schema).
            """
            CREATE TABLE coupon_templates (
              tenant_id TEXT NOT NULL,
              coupon_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              value_kind TEXT NOT NULL,
              value_number INTEGER NOT NULL,
              threshold_fen INTEGER NOT NULL CHECK (threshold_fen >= 0),
              valid_from INTEGER NOT NULL,
              valid_until INTEGER NOT NULL,
              stock INTEGER NOT NULL CHECK (stock > 0),
              per_fan_limit INTEGER NOT NULL CHECK (per_fan_limit > 0),
              audience TEXT,
              requires_follow INTEGER NOT NULL CHECK (requires_follow IN (0, 1)),
              activity_id TEXT,
              issued INTEGER NOT NULL CHECK (issued >= 0 AND issued <= stock),
              redeemed INTEGER NOT NULL CHECK (redeemed >= 0),
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, coupon_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Coupons fans hold.
            """
            CREATE TABLE coupon_claims (
              tenant_id TEXT NOT NULL,
              claim_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              coupon_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              claimed_at INTEGER NOT NULL,
              redeemed_at INTEGER,
              PRIMARY KEY (tenant_id, claim_id),
              FOREIGN KEY (tenant_id, coupon_id) REFERENCES coupon_templates(tenant_id, coupon_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX coupon_claims_by_fan ON coupon_claims(tenant_id, coupon_id, open_id)",
            "CREATE INDEX coupon_templates_by_account ON coupon_templates(tenant_id, account_id, created_at)",
        ],
        postgres: [
            """
            CREATE TABLE coupon_templates (
              tenant_id TEXT NOT NULL,
              coupon_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              value_kind TEXT NOT NULL,
              value_number BIGINT NOT NULL,
              threshold_fen BIGINT NOT NULL CHECK (threshold_fen >= 0),
              valid_from BIGINT NOT NULL,
              valid_until BIGINT NOT NULL,
              stock BIGINT NOT NULL CHECK (stock > 0),
              per_fan_limit BIGINT NOT NULL CHECK (per_fan_limit > 0),
              audience TEXT,
              requires_follow BIGINT NOT NULL CHECK (requires_follow IN (0, 1)),
              activity_id TEXT,
              issued BIGINT NOT NULL CHECK (issued >= 0 AND issued <= stock),
              redeemed BIGINT NOT NULL CHECK (redeemed >= 0),
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, coupon_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE coupon_claims (
              tenant_id TEXT NOT NULL,
              claim_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              coupon_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              claimed_at BIGINT NOT NULL,
              redeemed_at BIGINT,
              PRIMARY KEY (tenant_id, claim_id),
              FOREIGN KEY (tenant_id, coupon_id) REFERENCES coupon_templates(tenant_id, coupon_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX coupon_claims_by_fan ON coupon_claims(tenant_id, coupon_id, open_id)",
            "CREATE INDEX coupon_templates_by_account ON coupon_templates(tenant_id, account_id, created_at)",
        ])
}
