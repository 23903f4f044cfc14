// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v10 = Migration(
        version: "v10 reach",
        sqlite: [
            // Every platform action goes through the one outbox: what to do, and what it is about.
            "ALTER TABLE outbox ADD COLUMN action TEXT NOT NULL DEFAULT 'dm'",
            "ALTER TABLE outbox ADD COLUMN target TEXT",
            // An account's touch budget: how often one fan may be reached across posts, group sends, reminders and proactive DMs.
            """
            CREATE TABLE reach_settings (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              touches_per_day INTEGER NOT NULL CHECK (touches_per_day BETWEEN 1 AND 20),
              touches_per_week INTEGER NOT NULL CHECK (touches_per_week BETWEEN 1 AND 100),
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Subscription posts: the quota counts `day` (the account's calendar).
            """
            CREATE TABLE posts (
              tenant_id TEXT NOT NULL,
              post_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              title TEXT NOT NULL,
              body TEXT NOT NULL,
              format TEXT NOT NULL,
              media_ref TEXT,
              tool_kind TEXT,
              tool_ref TEXT,
              segment_id TEXT,
              scheduled_at INTEGER NOT NULL,
              day INTEGER NOT NULL,
              state TEXT NOT NULL,
              recipients INTEGER NOT NULL CHECK (recipients >= 0),
              held_back INTEGER NOT NULL CHECK (held_back >= 0),
              published_at INTEGER,
              error TEXT,
              created_by TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              version INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, post_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Every time Flywheel reached (or held back from reaching) a fan, and what followed within the window.
            """
            CREATE TABLE touches (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              touchpoint TEXT NOT NULL,
              ref TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at INTEGER NOT NULL,
              held INTEGER NOT NULL CHECK (held IN (0, 1)),
              opened_at INTEGER,
              clicked_at INTEGER,
              converted_at INTEGER,
              conversion_value INTEGER NOT NULL DEFAULT 0,
              unfollowed_at INTEGER,
              PRIMARY KEY (tenant_id, account_id, touchpoint, ref, open_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Fan groups with Flywheel's rules for them: threshold, admins, greeting, what the platform syncs in.
            """
            CREATE TABLE fan_groups (
              tenant_id TEXT NOT NULL,
              group_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              description TEXT NOT NULL,
              platform_group_id TEXT,
              group_number TEXT,
              threshold TEXT,
              welcome TEXT,
              admins TEXT NOT NULL,
              live_reminder INTEGER NOT NULL CHECK (live_reminder IN (0, 1)),
              share_new_works INTEGER NOT NULL CHECK (share_new_works IN (0, 1)),
              state TEXT NOT NULL,
              error TEXT,
              created_at INTEGER NOT NULL,
              version INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, group_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Applications to join, decided by the group's threshold.
            """
            CREATE TABLE group_applications (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              apply_id TEXT NOT NULL,
              platform_group_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              applied_at INTEGER NOT NULL,
              state TEXT NOT NULL,
              reason TEXT,
              decided_at INTEGER,
              PRIMARY KEY (tenant_id, account_id, apply_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Who writes in each group: active members.
            """
            CREATE TABLE group_members (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              platform_group_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              messages INTEGER NOT NULL CHECK (messages >= 0),
              last_message_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, platform_group_id, open_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Joins, leaves and messages per group and day: members over time.
            """
            CREATE TABLE group_days (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              platform_group_id TEXT NOT NULL,
              day INTEGER NOT NULL,
              joins INTEGER NOT NULL CHECK (joins >= 0),
              leaves INTEGER NOT NULL CHECK (leaves >= 0),
              messages INTEGER NOT NULL CHECK (messages >= 0),
              PRIMARY KEY (tenant_id, account_id, platform_group_id, day),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Recurring lives: weekdays and times of day in the account's zone.
            """
            CREATE TABLE live_schedules (
              tenant_id TEXT NOT NULL,
              schedule_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              title TEXT NOT NULL,
              weekdays TEXT NOT NULL,
              times TEXT NOT NULL,
              duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 10 AND 720),
              reminder_minutes INTEGER NOT NULL CHECK (reminder_minutes BETWEEN 5 AND 1440),
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, schedule_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Planned lives, from schedules or one by one; reminded once before they start.
            """
            CREATE TABLE lives (
              tenant_id TEXT NOT NULL,
              live_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              schedule_id TEXT,
              title TEXT NOT NULL,
              starts_at INTEGER NOT NULL,
              ends_at INTEGER NOT NULL,
              reminder_minutes INTEGER NOT NULL,
              reminded_at INTEGER,
              cancelled INTEGER NOT NULL CHECK (cancelled IN (0, 1)),
              PRIMARY KEY (tenant_id, live_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Fans who booked a live.
            """
            CREATE TABLE live_bookings (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              live_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              booked_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, live_id, open_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Who watched, gave and bought in each hour of an account's lives, by audience (old fan, new fan, non-fan).
            """
            CREATE TABLE live_viewers (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              hour INTEGER NOT NULL,
              open_id TEXT NOT NULL,
              audience TEXT NOT NULL,
              minutes INTEGER NOT NULL CHECK (minutes >= 0),
              gifts INTEGER NOT NULL CHECK (gifts >= 0),
              gmv INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, hour, open_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // The homepage checklist items the operator ticked.
            """
            CREATE TABLE homepage_items (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              item TEXT NOT NULL,
              done INTEGER NOT NULL CHECK (done IN (0, 1)),
              updated_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, item),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            // Homepage visits per day by the channel and domain they came through.
            """
            CREATE TABLE homepage_days (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day INTEGER NOT NULL,
              channel TEXT NOT NULL,
              domain TEXT NOT NULL,
              visits INTEGER NOT NULL CHECK (visits >= 0),
              PRIMARY KEY (tenant_id, account_id, day, channel, domain),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX posts_by_day ON posts(tenant_id, account_id, day)",
            "CREATE INDEX posts_due ON posts(scheduled_at) WHERE state = 'scheduled'",
            "CREATE INDEX touches_by_fan ON touches(tenant_id, account_id, open_id, at)",
            "CREATE UNIQUE INDEX fan_groups_platform ON fan_groups(tenant_id, account_id, platform_group_id) WHERE platform_group_id IS NOT NULL",
            "CREATE INDEX group_applications_pending ON group_applications(tenant_id, account_id, applied_at) WHERE state = 'pending'",
            "CREATE INDEX lives_by_start ON lives(tenant_id, account_id, starts_at)",
            "CREATE INDEX lives_to_remind ON lives(starts_at) WHERE reminded_at IS NULL AND cancelled = 0",
        ],
        postgres: [
            "ALTER TABLE outbox ADD COLUMN action TEXT NOT NULL DEFAULT 'dm'",
            "ALTER TABLE outbox ADD COLUMN target TEXT",
            """
            CREATE TABLE reach_settings (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              touches_per_day BIGINT NOT NULL CHECK (touches_per_day BETWEEN 1 AND 20),
              touches_per_week BIGINT NOT NULL CHECK (touches_per_week BETWEEN 1 AND 100),
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE posts (
              tenant_id TEXT NOT NULL,
              post_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              title TEXT NOT NULL,
              body TEXT NOT NULL,
              format TEXT NOT NULL,
              media_ref TEXT,
              tool_kind TEXT,
              tool_ref TEXT,
              segment_id TEXT,
              scheduled_at BIGINT NOT NULL,
              day BIGINT NOT NULL,
              state TEXT NOT NULL,
              recipients BIGINT NOT NULL CHECK (recipients >= 0),
              held_back BIGINT NOT NULL CHECK (held_back >= 0),
              published_at BIGINT,
              error TEXT,
              created_by TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              version BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, post_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE touches (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              touchpoint TEXT NOT NULL,
              ref TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at BIGINT NOT NULL,
              held BIGINT NOT NULL CHECK (held IN (0, 1)),
              opened_at BIGINT,
              clicked_at BIGINT,
              converted_at BIGINT,
              conversion_value BIGINT NOT NULL DEFAULT 0,
              unfollowed_at BIGINT,
              PRIMARY KEY (tenant_id, account_id, touchpoint, ref, open_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE fan_groups (
              tenant_id TEXT NOT NULL,
              group_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              description TEXT NOT NULL,
              platform_group_id TEXT,
              group_number TEXT,
              threshold TEXT,
              welcome TEXT,
              admins TEXT NOT NULL,
              live_reminder BIGINT NOT NULL CHECK (live_reminder IN (0, 1)),
              share_new_works BIGINT NOT NULL CHECK (share_new_works IN (0, 1)),
              state TEXT NOT NULL,
              error TEXT,
              created_at BIGINT NOT NULL,
              version BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, group_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE group_applications (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              apply_id TEXT NOT NULL,
              platform_group_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              applied_at BIGINT NOT NULL,
              state TEXT NOT NULL,
              reason TEXT,
              decided_at BIGINT,
              PRIMARY KEY (tenant_id, account_id, apply_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE group_members (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              platform_group_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              messages BIGINT NOT NULL CHECK (messages >= 0),
              last_message_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, platform_group_id, open_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE group_days (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              platform_group_id TEXT NOT NULL,
              day BIGINT NOT NULL,
              joins BIGINT NOT NULL CHECK (joins >= 0),
              leaves BIGINT NOT NULL CHECK (leaves >= 0),
              messages BIGINT NOT NULL CHECK (messages >= 0),
              PRIMARY KEY (tenant_id, account_id, platform_group_id, day),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE live_schedules (
              tenant_id TEXT NOT NULL,
              schedule_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              title TEXT NOT NULL,
              weekdays TEXT NOT NULL,
              times TEXT NOT NULL,
              duration_minutes BIGINT NOT NULL CHECK (duration_minutes BETWEEN 10 AND 720),
              reminder_minutes BIGINT NOT NULL CHECK (reminder_minutes BETWEEN 5 AND 1440),
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, schedule_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE lives (
              tenant_id TEXT NOT NULL,
              live_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              schedule_id TEXT,
              title TEXT NOT NULL,
              starts_at BIGINT NOT NULL,
              ends_at BIGINT NOT NULL,
              reminder_minutes BIGINT NOT NULL,
              reminded_at BIGINT,
              cancelled BIGINT NOT NULL CHECK (cancelled IN (0, 1)),
              PRIMARY KEY (tenant_id, live_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE live_bookings (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              live_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              booked_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, live_id, open_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE live_viewers (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              hour BIGINT NOT NULL,
              open_id TEXT NOT NULL,
              audience TEXT NOT NULL,
              minutes BIGINT NOT NULL CHECK (minutes >= 0),
              gifts BIGINT NOT NULL CHECK (gifts >= 0),
              gmv BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, hour, open_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE homepage_items (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              item TEXT NOT NULL,
              done BIGINT NOT NULL CHECK (done IN (0, 1)),
              updated_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, item),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE homepage_days (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day BIGINT NOT NULL,
              channel TEXT NOT NULL,
              domain TEXT NOT NULL,
              visits BIGINT NOT NULL CHECK (visits >= 0),
              PRIMARY KEY (tenant_id, account_id, day, channel, domain),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX posts_by_day ON posts(tenant_id, account_id, day)",
            "CREATE INDEX posts_due ON posts(scheduled_at) WHERE state = 'scheduled'",
            "CREATE INDEX touches_by_fan ON touches(tenant_id, account_id, open_id, at)",
            "CREATE UNIQUE INDEX fan_groups_platform ON fan_groups(tenant_id, account_id, platform_group_id) WHERE platform_group_id IS NOT NULL",
            "CREATE INDEX group_applications_pending ON group_applications(tenant_id, account_id, applied_at) WHERE state = 'pending'",
            "CREATE INDEX lives_by_start ON lives(tenant_id, account_id, starts_at)",
            "CREATE INDEX lives_to_remind ON lives(starts_at) WHERE reminded_at IS NULL AND cancelled = 0",
        ])
}
