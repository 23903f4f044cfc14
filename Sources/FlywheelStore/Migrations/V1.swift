// Frozen: this migration has run on databases in the field. Never edit it; add a new one.
extension Migration {
    static let v1 = Migration(
        version: "v1 tenancy, event log, fans",
        sqlite: [
            """
            CREATE TABLE tenants (
              tenant_id TEXT NOT NULL PRIMARY KEY,
              name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
              kind TEXT NOT NULL CHECK (kind IN ('enterprise','provider')),
              provider_id TEXT REFERENCES tenants(tenant_id),
              created_at INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE users (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              user_id TEXT NOT NULL,
              name TEXT NOT NULL,
              role TEXT NOT NULL CHECK (role IN ('owner','admin','operator','agent','analyst')),
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, user_id),
              UNIQUE (tenant_id, name)
            )
            """,
            """
            CREATE TABLE api_keys (
              tenant_id TEXT NOT NULL,
              key_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              secret_hash TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, key_id),
              FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, user_id)
            )
            """,
            """
            CREATE UNIQUE INDEX api_keys_by_key ON api_keys(key_id)
            """,
            """
            CREATE TABLE platform_apps (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              app_id TEXT NOT NULL,
              name TEXT NOT NULL,
              client_key TEXT NOT NULL CHECK (length(client_key) > 0),
              client_secret TEXT NOT NULL CHECK (length(client_secret) > 0),
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, app_id)
            )
            """,
            """
            CREATE UNIQUE INDEX platform_apps_by_client_key ON platform_apps(client_key)
            """,
            """
            CREATE TABLE accounts (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              app_id TEXT NOT NULL,
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              time_zone TEXT NOT NULL,
              rules TEXT,
              rules_version INTEGER NOT NULL DEFAULT 0,
              last_seq INTEGER NOT NULL DEFAULT 0,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              UNIQUE (tenant_id, app_id, open_id),
              FOREIGN KEY (tenant_id, app_id) REFERENCES platform_apps(tenant_id, app_id)
            )
            """,
            """
            CREATE UNIQUE INDEX accounts_by_id ON accounts(account_id)
            """,
            """
            CREATE TABLE audit_log (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              audit_id TEXT NOT NULL,
              at INTEGER NOT NULL,
              actor TEXT NOT NULL,
              action TEXT NOT NULL,
              target TEXT NOT NULL,
              detail TEXT NOT NULL,
              PRIMARY KEY (tenant_id, audit_id)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE webhook_deliveries (
              tenant_id TEXT NOT NULL,
              app_id TEXT NOT NULL,
              msg_id TEXT NOT NULL,
              event TEXT NOT NULL,
              account_id TEXT,
              received_at INTEGER NOT NULL,
              body TEXT NOT NULL,
              PRIMARY KEY (tenant_id, app_id, msg_id),
              FOREIGN KEY (tenant_id, app_id) REFERENCES platform_apps(tenant_id, app_id)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE events (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq INTEGER NOT NULL CHECK (seq > 0),
              event_id TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN ('follow','unfollow','video_view','like','comment','share','live_watch','live_gift','live_share','dm_received','dm_sent','dm_entered','group_join','group_leave','group_message','homepage_visit','lead_submitted','order_paid','order_refunded','coupon_claimed','coupon_redeemed')),
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              occurred_at INTEGER NOT NULL,
              domain TEXT NOT NULL CHECK (domain IN ('public','commercial','private','offsite')),
              channel TEXT NOT NULL CHECK (channel IN ('recommend_feed','search','live_square','city','challenge','live_list','dou_plus','brand_ad','qianchuan','follow_feed','homepage','live_feed','subscription','dm','group','wechat','offsite_pool','unknown')),
              amount INTEGER NOT NULL CHECK (amount >= 0),
              ref TEXT,
              attributes TEXT,
              PRIMARY KEY (tenant_id, account_id, seq)
            ) WITHOUT ROWID
            """,
            """
            CREATE UNIQUE INDEX events_by_id ON events(tenant_id, account_id, event_id)
            """,
            """
            CREATE INDEX events_by_fan ON events(tenant_id, account_id, open_id, seq)
            """,
            """
            CREATE TABLE projection_checkpoints (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              last_seq INTEGER NOT NULL,
              rules_version INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE fans (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              nickname TEXT,
              first_seen_at INTEGER NOT NULL,
              last_active_at INTEGER NOT NULL,
              first_domain TEXT NOT NULL CHECK (first_domain IN ('public','commercial','private','offsite')),
              first_channel TEXT NOT NULL CHECK (first_channel IN ('recommend_feed','search','live_square','city','challenge','live_list','dou_plus','brand_ad','qianchuan','follow_feed','homepage','live_feed','subscription','dm','group','wechat','offsite_pool','unknown')),
              latest_domain TEXT NOT NULL CHECK (latest_domain IN ('public','commercial','private','offsite')),
              latest_channel TEXT NOT NULL CHECK (latest_channel IN ('recommend_feed','search','live_square','city','challenge','live_list','dou_plus','brand_ad','qianchuan','follow_feed','homepage','live_feed','subscription','dm','group','wechat','offsite_pool','unknown')),
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
              PRIMARY KEY (tenant_id, account_id, open_id)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE tier_transitions (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              cause_seq INTEGER NOT NULL,
              at INTEGER NOT NULL,
              from_tier INTEGER CHECK (from_tier BETWEEN 0 AND 3),
              to_tier INTEGER NOT NULL CHECK (to_tier BETWEEN 0 AND 3),
              cause TEXT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id, cause_seq)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE tier_flow_daily (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day INTEGER NOT NULL,
              from_tier INTEGER NOT NULL CHECK (from_tier BETWEEN -1 AND 3),
              to_tier INTEGER NOT NULL CHECK (to_tier BETWEEN 0 AND 3),
              fans INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day, from_tier, to_tier)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE activity_daily (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day INTEGER NOT NULL,
              domain TEXT NOT NULL CHECK (domain IN ('public','commercial','private','offsite')),
              channel TEXT NOT NULL CHECK (channel IN ('recommend_feed','search','live_square','city','challenge','live_list','dou_plus','brand_ad','qianchuan','follow_feed','homepage','live_feed','subscription','dm','group','wechat','offsite_pool','unknown')),
              events INTEGER NOT NULL,
              new_fans INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day, domain, channel)
            ) WITHOUT ROWID
            """,
        ],
        postgres: [
            """
            CREATE TABLE tenants (
              tenant_id TEXT NOT NULL PRIMARY KEY,
              name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
              kind TEXT NOT NULL CHECK (kind IN ('enterprise','provider')),
              provider_id TEXT REFERENCES tenants(tenant_id),
              created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE users (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              user_id TEXT NOT NULL,
              name TEXT NOT NULL,
              role TEXT NOT NULL CHECK (role IN ('owner','admin','operator','agent','analyst')),
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, user_id),
              UNIQUE (tenant_id, name)
            )
            """,
            """
            CREATE TABLE api_keys (
              tenant_id TEXT NOT NULL,
              key_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              secret_hash TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, key_id),
              FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, user_id)
            )
            """,
            """
            CREATE UNIQUE INDEX api_keys_by_key ON api_keys(key_id)
            """,
            """
            CREATE TABLE platform_apps (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              app_id TEXT NOT NULL,
              name TEXT NOT NULL,
              client_key TEXT NOT NULL CHECK (length(client_key) > 0),
              client_secret TEXT NOT NULL CHECK (length(client_secret) > 0),
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, app_id)
            )
            """,
            """
            CREATE UNIQUE INDEX platform_apps_by_client_key ON platform_apps(client_key)
            """,
            """
            CREATE TABLE accounts (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              app_id TEXT NOT NULL,
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              time_zone TEXT NOT NULL,
              rules TEXT,
              rules_version BIGINT NOT NULL DEFAULT 0,
              last_seq BIGINT NOT NULL DEFAULT 0,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              UNIQUE (tenant_id, app_id, open_id),
              FOREIGN KEY (tenant_id, app_id) REFERENCES platform_apps(tenant_id, app_id)
            )
            """,
            """
            CREATE UNIQUE INDEX accounts_by_id ON accounts(account_id)
            """,
            """
            CREATE TABLE audit_log (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              audit_id TEXT COLLATE "C" NOT NULL,
              at BIGINT NOT NULL,
              actor TEXT NOT NULL,
              action TEXT NOT NULL,
              target TEXT NOT NULL,
              detail TEXT NOT NULL,
              PRIMARY KEY (tenant_id, audit_id)
            )
            """,
            """
            CREATE TABLE webhook_deliveries (
              tenant_id TEXT NOT NULL,
              app_id TEXT NOT NULL,
              msg_id TEXT NOT NULL,
              event TEXT NOT NULL,
              account_id TEXT,
              received_at BIGINT NOT NULL,
              body TEXT NOT NULL,
              PRIMARY KEY (tenant_id, app_id, msg_id),
              FOREIGN KEY (tenant_id, app_id) REFERENCES platform_apps(tenant_id, app_id)
            )
            """,
            """
            CREATE TABLE events (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq BIGINT NOT NULL CHECK (seq > 0),
              event_id TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN ('follow','unfollow','video_view','like','comment','share','live_watch','live_gift','live_share','dm_received','dm_sent','dm_entered','group_join','group_leave','group_message','homepage_visit','lead_submitted','order_paid','order_refunded','coupon_claimed','coupon_redeemed')),
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              occurred_at BIGINT NOT NULL,
              domain TEXT NOT NULL CHECK (domain IN ('public','commercial','private','offsite')),
              channel TEXT NOT NULL CHECK (channel IN ('recommend_feed','search','live_square','city','challenge','live_list','dou_plus','brand_ad','qianchuan','follow_feed','homepage','live_feed','subscription','dm','group','wechat','offsite_pool','unknown')),
              amount BIGINT NOT NULL CHECK (amount >= 0),
              ref TEXT,
              attributes TEXT,
              PRIMARY KEY (tenant_id, account_id, seq)
            )
            """,
            """
            CREATE UNIQUE INDEX events_by_id ON events(tenant_id, account_id, event_id)
            """,
            """
            CREATE INDEX events_by_fan ON events(tenant_id, account_id, open_id, seq)
            """,
            """
            CREATE TABLE projection_checkpoints (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              last_seq BIGINT NOT NULL,
              rules_version BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id)
            )
            """,
            """
            CREATE TABLE fans (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT COLLATE "C" NOT NULL,
              nickname TEXT,
              first_seen_at BIGINT NOT NULL,
              last_active_at BIGINT NOT NULL,
              first_domain TEXT NOT NULL CHECK (first_domain IN ('public','commercial','private','offsite')),
              first_channel TEXT NOT NULL CHECK (first_channel IN ('recommend_feed','search','live_square','city','challenge','live_list','dou_plus','brand_ad','qianchuan','follow_feed','homepage','live_feed','subscription','dm','group','wechat','offsite_pool','unknown')),
              latest_domain TEXT NOT NULL CHECK (latest_domain IN ('public','commercial','private','offsite')),
              latest_channel TEXT NOT NULL CHECK (latest_channel IN ('recommend_feed','search','live_square','city','challenge','live_list','dou_plus','brand_ad','qianchuan','follow_feed','homepage','live_feed','subscription','dm','group','wechat','offsite_pool','unknown')),
              following BIGINT NOT NULL CHECK (following IN (0,1)),
              followed_at BIGINT,
              follow_changed_at BIGINT NOT NULL,
              video_views BIGINT NOT NULL DEFAULT 0 CHECK (video_views >= 0),
            likes BIGINT NOT NULL DEFAULT 0 CHECK (likes >= 0),
            comments BIGINT NOT NULL DEFAULT 0 CHECK (comments >= 0),
            shares BIGINT NOT NULL DEFAULT 0 CHECK (shares >= 0),
            live_watches BIGINT NOT NULL DEFAULT 0 CHECK (live_watches >= 0),
            live_minutes BIGINT NOT NULL DEFAULT 0 CHECK (live_minutes >= 0),
            live_gifts BIGINT NOT NULL DEFAULT 0 CHECK (live_gifts >= 0),
            gift_value BIGINT NOT NULL DEFAULT 0 CHECK (gift_value >= 0),
            live_shares BIGINT NOT NULL DEFAULT 0 CHECK (live_shares >= 0),
            dms_received BIGINT NOT NULL DEFAULT 0 CHECK (dms_received >= 0),
            dms_sent BIGINT NOT NULL DEFAULT 0 CHECK (dms_sent >= 0),
            dm_entries BIGINT NOT NULL DEFAULT 0 CHECK (dm_entries >= 0),
            group_joins BIGINT NOT NULL DEFAULT 0 CHECK (group_joins >= 0),
            group_leaves BIGINT NOT NULL DEFAULT 0 CHECK (group_leaves >= 0),
            group_messages BIGINT NOT NULL DEFAULT 0 CHECK (group_messages >= 0),
            homepage_visits BIGINT NOT NULL DEFAULT 0 CHECK (homepage_visits >= 0),
            leads BIGINT NOT NULL DEFAULT 0 CHECK (leads >= 0),
            orders_paid BIGINT NOT NULL DEFAULT 0 CHECK (orders_paid >= 0),
            orders_refunded BIGINT NOT NULL DEFAULT 0 CHECK (orders_refunded >= 0),
            coupons_claimed BIGINT NOT NULL DEFAULT 0 CHECK (coupons_claimed >= 0),
            coupons_redeemed BIGINT NOT NULL DEFAULT 0 CHECK (coupons_redeemed >= 0),
            follows BIGINT NOT NULL DEFAULT 0 CHECK (follows >= 0),
            unfollows BIGINT NOT NULL DEFAULT 0 CHECK (unfollows >= 0),
              gmv BIGINT NOT NULL,
              intimacy BIGINT NOT NULL CHECK (intimacy >= 0),
              level BIGINT NOT NULL CHECK (level >= 0),
              ledger TEXT NOT NULL,
              tier BIGINT NOT NULL CHECK (tier BETWEEN 0 AND 3),
              tier_changed_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id)
            )
            """,
            """
            CREATE TABLE tier_transitions (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              cause_seq BIGINT NOT NULL,
              at BIGINT NOT NULL,
              from_tier BIGINT CHECK (from_tier BETWEEN 0 AND 3),
              to_tier BIGINT NOT NULL CHECK (to_tier BETWEEN 0 AND 3),
              cause TEXT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id, cause_seq)
            )
            """,
            """
            CREATE TABLE tier_flow_daily (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day BIGINT NOT NULL,
              from_tier BIGINT NOT NULL CHECK (from_tier BETWEEN -1 AND 3),
              to_tier BIGINT NOT NULL CHECK (to_tier BETWEEN 0 AND 3),
              fans BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day, from_tier, to_tier)
            )
            """,
            """
            CREATE TABLE activity_daily (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day BIGINT NOT NULL,
              domain TEXT NOT NULL CHECK (domain IN ('public','commercial','private','offsite')),
              channel TEXT NOT NULL CHECK (channel IN ('recommend_feed','search','live_square','city','challenge','live_list','dou_plus','brand_ad','qianchuan','follow_feed','homepage','live_feed','subscription','dm','group','wechat','offsite_pool','unknown')),
              events BIGINT NOT NULL,
              new_fans BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day, domain, channel)
            )
            """,
        ]
    )
}
