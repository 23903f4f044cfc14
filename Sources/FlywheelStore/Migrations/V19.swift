// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    /// `kind`'s name as its number; the same text for both databases.
    private static let v19KindNumber = """
        CASE kind
          WHEN 'follow' THEN 1 WHEN 'unfollow' THEN 2 WHEN 'video_view' THEN 3 WHEN 'like' THEN 4 WHEN 'comment' THEN 5 WHEN 'share' THEN 6
          WHEN 'live_watch' THEN 7 WHEN 'live_gift' THEN 8 WHEN 'live_share' THEN 9 WHEN 'dm_received' THEN 10 WHEN 'dm_sent' THEN 11 WHEN 'dm_entered' THEN 12
          WHEN 'dm_granted' THEN 13 WHEN 'dm_revoked' THEN 14 WHEN 'group_join' THEN 15 WHEN 'group_leave' THEN 16 WHEN 'group_message' THEN 17 WHEN 'group_applied' THEN 18
          WHEN 'post_opened' THEN 19 WHEN 'post_clicked' THEN 20 WHEN 'live_booked' THEN 21 WHEN 'homepage_visit' THEN 22 WHEN 'lead_submitted' THEN 23 WHEN 'order_paid' THEN 24
          WHEN 'order_refunded' THEN 25 WHEN 'coupon_claimed' THEN 26 WHEN 'coupon_redeemed' THEN 27 WHEN 'tag_added' THEN 28 WHEN 'tag_removed' THEN 29 WHEN 'note_added' THEN 30
          ELSE 0 END
        """
    /// `domain`'s name as its number; the same text for both databases.
    private static let v19DomainNumber = """
        CASE domain
          WHEN 'public' THEN 1 WHEN 'commercial' THEN 2 WHEN 'private' THEN 3 WHEN 'offsite' THEN 4
          ELSE 0 END
        """
    /// `channel`'s name as its number; the same text for both databases.
    private static let v19ChannelNumber = """
        CASE channel
          WHEN 'recommend_feed' THEN 1 WHEN 'search' THEN 2 WHEN 'live_square' THEN 3 WHEN 'city' THEN 4 WHEN 'challenge' THEN 5 WHEN 'live_list' THEN 6
          WHEN 'dou_plus' THEN 7 WHEN 'brand_ad' THEN 8 WHEN 'qianchuan' THEN 9 WHEN 'follow_feed' THEN 10 WHEN 'homepage' THEN 11 WHEN 'live_feed' THEN 12
          WHEN 'subscription' THEN 13 WHEN 'dm' THEN 14 WHEN 'group' THEN 15 WHEN 'wechat' THEN 16 WHEN 'offsite_pool' THEN 17 WHEN 'unknown' THEN 18
          ELSE 0 END
        """

    static let v19 = Migration(
        version: "v19 numbered kinds, domains and channels in the log",
        sqlite: [
            // An event's kind, domain and channel are stored as small numbers (EventCodes) instead of
            // their names: a third fewer bytes in SQLite's log, and a batch read without looking names
            // up. A name no number stands for becomes 0, which the projector sets aside as before.
            """
            CREATE TABLE events_v19 (
              stream INTEGER NOT NULL,
              seq INTEGER NOT NULL CHECK (seq > 0),
              event_id TEXT NOT NULL,
              kind INTEGER NOT NULL,
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              occurred_at INTEGER NOT NULL,
              domain INTEGER NOT NULL,
              channel INTEGER NOT NULL,
              amount INTEGER NOT NULL CHECK (amount >= 0),
              ref TEXT,
              attributes TEXT,
              PRIMARY KEY (stream, seq)
            ) WITHOUT ROWID
            """,
            """
            INSERT INTO events_v19
            SELECT stream, seq, event_id, \(v19KindNumber), open_id, occurred_at, \(v19DomainNumber), \(v19ChannelNumber), amount, ref, attributes
            FROM events
            """,
            "DROP TABLE events",
            "ALTER TABLE events_v19 RENAME TO events",
            "CREATE UNIQUE INDEX events_by_id ON events(stream, event_id)",
        ],
        postgres: [
            """
            ALTER TABLE events
              ALTER COLUMN kind TYPE SMALLINT USING \(v19KindNumber),
              ALTER COLUMN domain TYPE SMALLINT USING \(v19DomainNumber),
              ALTER COLUMN channel TYPE SMALLINT USING \(v19ChannelNumber)
            """,
        ])
}
