// Frozen: this migration has run on databases in the field. Never edit it; add a new one.
extension Migration {
    static let v3 = Migration(
        version: "v3 profiles, tags, operator actions",
        sqlite: [
            """
            CREATE TABLE events_v3 (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq INTEGER NOT NULL CHECK (seq > 0),
              event_id TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN ('follow','unfollow','video_view','like','comment','share','live_watch','live_gift','live_share','dm_received','dm_sent','dm_entered','group_join','group_leave','group_message','homepage_visit','lead_submitted','order_paid','order_refunded','coupon_claimed','coupon_redeemed','tag_added','tag_removed','note_added')),
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
            INSERT INTO events_v3 SELECT * FROM events
            """,
            """
            DROP TABLE events
            """,
            """
            ALTER TABLE events_v3 RENAME TO events
            """,
            """
            CREATE UNIQUE INDEX events_by_id ON events(tenant_id, account_id, event_id)
            """,
            """
            CREATE INDEX events_by_fan ON events(tenant_id, account_id, open_id, seq)
            """,
            """
            ALTER TABLE fans ADD COLUMN gender TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN age_band TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN region TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN city TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN device TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN phone TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN last_ordered_at INTEGER
            """,
            """
            ALTER TABLE fans ADD COLUMN interests TEXT NOT NULL DEFAULT ''
            """,
            """
            ALTER TABLE fans ADD COLUMN profile_changed_at INTEGER NOT NULL DEFAULT 0
            """,
            """
            ALTER TABLE fans ADD COLUMN tags TEXT NOT NULL DEFAULT ''
            """,
            """
            ALTER TABLE fans ADD COLUMN fan_groups TEXT NOT NULL DEFAULT ''
            """,
            """
            CREATE TABLE tags (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              name TEXT NOT NULL,
              tag_group TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, name)
            )
            """,
            """
            CREATE TABLE fan_actions (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              cause_seq INTEGER NOT NULL,
              at INTEGER NOT NULL,
              action TEXT NOT NULL,
              detail TEXT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id, cause_seq, action, detail)
            ) WITHOUT ROWID
            """,
            """
            CREATE INDEX segment_changes_by_fan ON segment_changes(tenant_id, account_id, open_id, at)
            """,
        ],
        postgres: [
            """
            ALTER TABLE events DROP CONSTRAINT events_kind_check
            """,
            """
            ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind IN ('follow','unfollow','video_view','like','comment','share','live_watch','live_gift','live_share','dm_received','dm_sent','dm_entered','group_join','group_leave','group_message','homepage_visit','lead_submitted','order_paid','order_refunded','coupon_claimed','coupon_redeemed','tag_added','tag_removed','note_added'))
            """,
            """
            ALTER TABLE fans ADD COLUMN gender TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN age_band TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN region TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN city TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN device TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN phone TEXT
            """,
            """
            ALTER TABLE fans ADD COLUMN last_ordered_at BIGINT
            """,
            """
            ALTER TABLE fans ADD COLUMN interests TEXT NOT NULL DEFAULT ''
            """,
            """
            ALTER TABLE fans ADD COLUMN profile_changed_at BIGINT NOT NULL DEFAULT 0
            """,
            """
            ALTER TABLE fans ADD COLUMN tags TEXT NOT NULL DEFAULT ''
            """,
            """
            ALTER TABLE fans ADD COLUMN fan_groups TEXT NOT NULL DEFAULT ''
            """,
            """
            CREATE TABLE tags (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              name TEXT NOT NULL,
              tag_group TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, name)
            )
            """,
            """
            CREATE TABLE fan_actions (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              cause_seq BIGINT NOT NULL,
              at BIGINT NOT NULL,
              action TEXT NOT NULL,
              detail TEXT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id, cause_seq, action, detail)
            )
            """,
            """
            CREATE INDEX segment_changes_by_fan ON segment_changes(tenant_id, account_id, open_id, at)
            """,
        ]
    )
}
