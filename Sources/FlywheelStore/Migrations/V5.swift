// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v5 = Migration(
        version: "v5 quarantine, checks in code, tenant-led keys",
        sqlite: [
            """
            CREATE TABLE quarantined_events (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq INTEGER NOT NULL,
              event_id TEXT NOT NULL,
              reason TEXT NOT NULL,
              quarantined_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, seq)
            ) WITHOUT ROWID
            """,
            // SQLite cannot drop a CHECK: the tables with lists of kinds, domains and channels are rebuilt.
            """
            CREATE TABLE events_v5 (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq INTEGER NOT NULL CHECK (seq > 0),
              event_id TEXT NOT NULL,
              kind TEXT NOT NULL,
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              occurred_at INTEGER NOT NULL,
              domain TEXT NOT NULL,
              channel TEXT NOT NULL,
              amount INTEGER NOT NULL CHECK (amount >= 0),
              ref TEXT,
              attributes TEXT,
              PRIMARY KEY (tenant_id, account_id, seq)
            ) WITHOUT ROWID
            """,
            "INSERT INTO events_v5 SELECT * FROM events",
            "DROP TABLE events",
            "ALTER TABLE events_v5 RENAME TO events",
            "CREATE UNIQUE INDEX events_by_id ON events(tenant_id, account_id, event_id)",
            "CREATE INDEX events_by_fan ON events(tenant_id, account_id, open_id, seq)",
            """
            CREATE TABLE fans_v5 (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              nickname TEXT,
              first_seen_at INTEGER NOT NULL,
              last_active_at INTEGER NOT NULL,
              first_domain TEXT NOT NULL,
              first_channel TEXT NOT NULL,
              latest_domain TEXT NOT NULL,
              latest_channel TEXT NOT NULL,
              following INTEGER NOT NULL CHECK (following IN (0,1)),
              followed_at INTEGER,
              follow_changed_at INTEGER NOT NULL,
              video_views INTEGER NOT NULL DEFAULT 0 CHECK (video_views >= 0),
              likes INTEGER NOT NULL DEFAULT 0 CHECK (likes >= 0),
              comments INTEGER NOT NULL DEFAULT 0 CHECK (comments >= 0),
              shares INTEGER NOT NULL DEFAULT 0 CHECK (shares >= 0),
              live_watches INTEGER NOT NULL DEFAULT 0 CHECK (live_watches >= 0),
              live_minutes INTEGER NOT NULL DEFAULT 0 CHECK (live_minutes >= 0),
              live_gifts INTEGER NOT NULL DEFAULT 0 CHECK (live_gifts >= 0),
              gift_value INTEGER NOT NULL DEFAULT 0 CHECK (gift_value >= 0),
              live_shares INTEGER NOT NULL DEFAULT 0 CHECK (live_shares >= 0),
              dms_received INTEGER NOT NULL DEFAULT 0 CHECK (dms_received >= 0),
              dms_sent INTEGER NOT NULL DEFAULT 0 CHECK (dms_sent >= 0),
              dm_entries INTEGER NOT NULL DEFAULT 0 CHECK (dm_entries >= 0),
              group_joins INTEGER NOT NULL DEFAULT 0 CHECK (group_joins >= 0),
              group_leaves INTEGER NOT NULL DEFAULT 0 CHECK (group_leaves >= 0),
              group_messages INTEGER NOT NULL DEFAULT 0 CHECK (group_messages >= 0),
              homepage_visits INTEGER NOT NULL DEFAULT 0 CHECK (homepage_visits >= 0),
              leads INTEGER NOT NULL DEFAULT 0 CHECK (leads >= 0),
              orders_paid INTEGER NOT NULL DEFAULT 0 CHECK (orders_paid >= 0),
              orders_refunded INTEGER NOT NULL DEFAULT 0 CHECK (orders_refunded >= 0),
              coupons_claimed INTEGER NOT NULL DEFAULT 0 CHECK (coupons_claimed >= 0),
              coupons_redeemed INTEGER NOT NULL DEFAULT 0 CHECK (coupons_redeemed >= 0),
              follows INTEGER NOT NULL DEFAULT 0 CHECK (follows >= 0),
              unfollows INTEGER NOT NULL DEFAULT 0 CHECK (unfollows >= 0),
              gmv INTEGER NOT NULL,
              intimacy INTEGER NOT NULL CHECK (intimacy >= 0),
              level INTEGER NOT NULL CHECK (level >= 0),
              ledger TEXT NOT NULL,
              tier INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 3),
              tier_changed_at INTEGER NOT NULL,
              gender TEXT,
              age_band TEXT,
              region TEXT,
              city TEXT,
              device TEXT,
              phone TEXT,
              last_ordered_at INTEGER,
              interests TEXT NOT NULL DEFAULT '',
              profile_changed_at INTEGER NOT NULL DEFAULT 0,
              tags TEXT NOT NULL DEFAULT '',
              fan_groups TEXT NOT NULL DEFAULT '',
              PRIMARY KEY (tenant_id, account_id, open_id)
            ) WITHOUT ROWID
            """,
            "INSERT INTO fans_v5 SELECT * FROM fans",
            "DROP TABLE fans",
            "ALTER TABLE fans_v5 RENAME TO fans",
            """
            CREATE TABLE activity_daily_v5 (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day INTEGER NOT NULL,
              domain TEXT NOT NULL,
              channel TEXT NOT NULL,
              events INTEGER NOT NULL,
              new_fans INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day, domain, channel)
            ) WITHOUT ROWID
            """,
            "INSERT INTO activity_daily_v5 SELECT * FROM activity_daily",
            "DROP TABLE activity_daily",
            "ALTER TABLE activity_daily_v5 RENAME TO activity_daily",
            // Keys lead with the tenant; the lookups that start from a token or a client_key across
            // tenants use plain indexes (ids are random; a client_key is checked free on insert).
            """
            CREATE TABLE sessions_v5 (
              tenant_id TEXT NOT NULL,
              session_hash TEXT NOT NULL,
              user_id TEXT NOT NULL,
              csrf TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              expires_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, session_hash),
              FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, user_id)
            )
            """,
            "INSERT INTO sessions_v5 (tenant_id, session_hash, user_id, csrf, created_at, expires_at) SELECT tenant_id, session_hash, user_id, csrf, created_at, expires_at FROM sessions",
            "DROP TABLE sessions",
            "ALTER TABLE sessions_v5 RENAME TO sessions",
            "CREATE INDEX sessions_by_hash ON sessions(session_hash)",
            "DROP INDEX api_keys_by_key",
            "CREATE INDEX api_keys_by_key ON api_keys(key_id)",
            "DROP INDEX platform_apps_by_client_key",
            "CREATE INDEX platform_apps_by_client_key ON platform_apps(client_key)",
            "DROP INDEX accounts_by_id",
            "CREATE INDEX accounts_by_id ON accounts(account_id)",
        ],
        postgres: [
            """
            CREATE TABLE quarantined_events (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq BIGINT NOT NULL,
              event_id TEXT NOT NULL,
              reason TEXT NOT NULL,
              quarantined_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, seq)
            )
            """,
            "ALTER TABLE events DROP CONSTRAINT events_kind_check, DROP CONSTRAINT events_domain_check, DROP CONSTRAINT events_channel_check",
            """
            ALTER TABLE fans DROP CONSTRAINT fans_first_domain_check, DROP CONSTRAINT fans_first_channel_check,
              DROP CONSTRAINT fans_latest_domain_check, DROP CONSTRAINT fans_latest_channel_check
            """,
            "ALTER TABLE activity_daily DROP CONSTRAINT activity_daily_domain_check, DROP CONSTRAINT activity_daily_channel_check",
            "ALTER TABLE sessions DROP CONSTRAINT sessions_pkey, ADD PRIMARY KEY (tenant_id, session_hash)",
            "CREATE INDEX sessions_by_hash ON sessions(session_hash)",
            "DROP INDEX api_keys_by_key",
            "CREATE INDEX api_keys_by_key ON api_keys(key_id)",
            "DROP INDEX platform_apps_by_client_key",
            "CREATE INDEX platform_apps_by_client_key ON platform_apps(client_key)",
            "DROP INDEX accounts_by_id",
            "CREATE INDEX accounts_by_id ON accounts(account_id)",
        ]
    )
}
