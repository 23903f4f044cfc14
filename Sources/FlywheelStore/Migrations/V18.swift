// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v18 = Migration(
        version: "v18 date journeys and campaign holdouts",
        sqlite: [
            // A date journey's moment while it has not fired yet; NULL once it has (and for other triggers).
            "ALTER TABLE journeys ADD COLUMN fires_at INTEGER",
            "CREATE INDEX journeys_to_fire ON journeys (fires_at) WHERE fires_at IS NOT NULL",
            // A campaign's holdout: fans who asked for it and were kept from it, measured against those who got it.
            "ALTER TABLE coupon_templates ADD COLUMN holdout_percent INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE red_envelopes ADD COLUMN holdout_percent INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE lotteries ADD COLUMN holdout_percent INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE fission_campaigns ADD COLUMN holdout_percent INTEGER NOT NULL DEFAULT 0",
            // The Idempotency-Key of the request that made an entry: the same entry asked again is answered, not refused.
            "ALTER TABLE lottery_entries ADD COLUMN request_key TEXT",
            """
            CREATE TABLE campaign_holdouts (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              campaign_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, campaign_id, open_id)
            )
            """,
        ],
        postgres: [
            "ALTER TABLE journeys ADD COLUMN fires_at BIGINT",
            "CREATE INDEX journeys_to_fire ON journeys (fires_at) WHERE fires_at IS NOT NULL",
            "ALTER TABLE coupon_templates ADD COLUMN holdout_percent BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE red_envelopes ADD COLUMN holdout_percent BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE lotteries ADD COLUMN holdout_percent BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE fission_campaigns ADD COLUMN holdout_percent BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE lottery_entries ADD COLUMN request_key TEXT",
            """
            CREATE TABLE campaign_holdouts (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              campaign_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, campaign_id, open_id)
            )
            """,
        ])
}
