import FlywheelDomain

/// The schema, written once for both stores: SQLite and PostgreSQL differ only in the words the
/// dialect supplies. Every table's key starts with `tenant_id` (docs/scaling.md). Migrations are
/// versioned; a landed one is never edited, only followed by the next.
public enum Schema {
    public enum Dialect: Sendable { case sqlite, postgres }

    /// Migrations in order, each a list of statements.
    public static func migrations(_ dialect: Dialect) -> [(version: String, statements: [String])] {
        [("v1 tenancy, event log, fans", v1(dialect)), ("v2 segments", v2(dialect)), ("v3 profiles, tags, operator actions", v3(dialect)),
         ("v4 console sign-in", v4(dialect)), ("v5 quarantined events", v5(dialect))]
    }

    static func v5(_ dialect: Dialect) -> [String] {
        switch dialect {
        case .sqlite: ["""
            CREATE TABLE quarantined_events (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq INTEGER NOT NULL,
              event_id TEXT NOT NULL,
              reason TEXT NOT NULL,
              quarantined_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, seq)
            ) WITHOUT ROWID
            """]
        case .postgres: ["""
            CREATE TABLE quarantined_events (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq BIGINT NOT NULL,
              event_id TEXT NOT NULL,
              reason TEXT NOT NULL,
              quarantined_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, seq)
            )
            """]
        }
    }

    static func v4(_ dialect: Dialect) -> [String] {
        let int = dialect == .postgres ? "BIGINT" : "INTEGER"
        return [
            "ALTER TABLE users ADD COLUMN password_hash TEXT",
            """
            CREATE TABLE sessions (
              session_hash TEXT NOT NULL PRIMARY KEY,
              tenant_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              csrf TEXT NOT NULL,
              created_at \(int) NOT NULL,
              expires_at \(int) NOT NULL,
              FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, user_id)
            )
            """,
        ]
    }

    static func v3(_ dialect: Dialect) -> [String] {
        let int = dialect == .postgres ? "BIGINT" : "INTEGER"
        let rowless = dialect == .sqlite ? " WITHOUT ROWID" : ""
        let kinds = EventKind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
        // Operator actions are events too: the kinds check widens. SQLite cannot alter a check, so
        // the table is rebuilt.
        let events = switch dialect {
        case .postgres: ["ALTER TABLE events DROP CONSTRAINT events_kind_check",
                         "ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind IN (\(kinds)))"]
        case .sqlite: [eventsTable(dialect, name: "events_v3", kinds: kinds), "INSERT INTO events_v3 SELECT * FROM events", "DROP TABLE events",
                       "ALTER TABLE events_v3 RENAME TO events"] + eventsIndexes
        }
        let profile = FanProfile.attributeNames.map { "ALTER TABLE fans ADD COLUMN \($0) TEXT" }
        return events + profile + [
            "ALTER TABLE fans ADD COLUMN last_ordered_at \(int)",
            "ALTER TABLE fans ADD COLUMN interests TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE fans ADD COLUMN profile_changed_at \(int) NOT NULL DEFAULT 0",
            "ALTER TABLE fans ADD COLUMN tags TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE fans ADD COLUMN fan_groups TEXT NOT NULL DEFAULT ''",
            """
            CREATE TABLE tags (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              name TEXT NOT NULL,
              tag_group TEXT NOT NULL,
              created_at \(int) NOT NULL,
              PRIMARY KEY (tenant_id, name)
            )
            """,
            """
            CREATE TABLE fan_actions (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              cause_seq \(int) NOT NULL,
              at \(int) NOT NULL,
              action TEXT NOT NULL,
              detail TEXT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id, cause_seq, action, detail)
            )\(rowless)
            """,
            "CREATE INDEX segment_changes_by_fan ON segment_changes(tenant_id, account_id, open_id, at)",
        ]
    }

    static func eventsTable(_ dialect: Dialect, name: String, kinds: String) -> String {
        let int = dialect == .postgres ? "BIGINT" : "INTEGER"
        let rowless = dialect == .sqlite ? " WITHOUT ROWID" : ""
        let domains = SourceDomain.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
        let channels = Channel.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
        return """
            CREATE TABLE \(name) (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq \(int) NOT NULL CHECK (seq > 0),
              event_id TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN (\(kinds))),
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              occurred_at \(int) NOT NULL,
              domain TEXT NOT NULL CHECK (domain IN (\(domains))),
              channel TEXT NOT NULL CHECK (channel IN (\(channels))),
              amount \(int) NOT NULL CHECK (amount >= 0),
              ref TEXT,
              attributes TEXT,
              PRIMARY KEY (tenant_id, account_id, seq)
            )\(rowless)
            """
    }

    static let eventsIndexes = [
        "CREATE UNIQUE INDEX events_by_id ON events(tenant_id, account_id, event_id)",
        "CREATE INDEX events_by_fan ON events(tenant_id, account_id, open_id, seq)",
    ]

    static func v2(_ dialect: Dialect) -> [String] {
        let int = dialect == .postgres ? "BIGINT" : "INTEGER"
        let binary = dialect == .postgres ? "COLLATE \"C\" " : ""
        let rowless = dialect == .sqlite ? " WITHOUT ROWID" : ""
        return """
            CREATE TABLE segments (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              segment_id TEXT NOT NULL,
              name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
              predicate TEXT NOT NULL,
              state TEXT NOT NULL CHECK (state IN ('building','ready','failed')),
              failure TEXT,
              size \(int) NOT NULL DEFAULT 0 CHECK (size >= 0),
              checked_at \(int) NOT NULL DEFAULT 0,
              created_at \(int) NOT NULL,
              updated_at \(int) NOT NULL,
              PRIMARY KEY (tenant_id, account_id, segment_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id)
            );
            CREATE TABLE segment_members (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              segment_id TEXT NOT NULL,
              open_id TEXT \(binary)NOT NULL,
              since \(int) NOT NULL,
              PRIMARY KEY (tenant_id, account_id, segment_id, open_id)
            )\(rowless);
            CREATE INDEX segment_members_by_fan ON segment_members(tenant_id, account_id, open_id);
            CREATE TABLE segment_changes (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              segment_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              cause_seq \(int) NOT NULL,
              at \(int) NOT NULL,
              entered \(int) NOT NULL CHECK (entered IN (0,1)),
              cause TEXT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, segment_id, open_id, cause_seq)
            )\(rowless);
            CREATE INDEX segment_changes_by_time ON segment_changes(tenant_id, account_id, segment_id, at)
            """.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    static func v1(_ dialect: Dialect) -> [String] {
        let int = dialect == .postgres ? "BIGINT" : "INTEGER"
        // Byte order for ids that pages are cut by, as SQLite compares text.
        let binary = dialect == .postgres ? "COLLATE \"C\" " : ""
        // Tables read by key only: SQLite keeps them clustered on the key.
        let rowless = dialect == .sqlite ? " WITHOUT ROWID" : ""
        let list = { (values: [String]) in values.map { "'\($0)'" }.joined(separator: ",") }
        // The kinds as v1 shipped them; v3 widens the check.
        let kinds = list(["follow", "unfollow", "video_view", "like", "comment", "share", "live_watch", "live_gift", "live_share",
                          "dm_received", "dm_sent", "dm_entered", "group_join", "group_leave", "group_message", "homepage_visit",
                          "lead_submitted", "order_paid", "order_refunded", "coupon_claimed", "coupon_redeemed"])
        let domains = list(SourceDomain.allCases.map(\.rawValue))
        let channels = list(Channel.allCases.map(\.rawValue))
        let roles = list(Role.allCases.map(\.rawValue))
        let counters = FanCounters.fields.map { "\($0.name) \(int) NOT NULL DEFAULT 0 CHECK (\($0.name) >= 0)" }.joined(separator: ",\n")
        // The statements hold no ';' of their own, so splitting on it is safe.
        return """
            CREATE TABLE tenants (
              tenant_id TEXT NOT NULL PRIMARY KEY,
              name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
              kind TEXT NOT NULL CHECK (kind IN ('enterprise','provider')),
              provider_id TEXT REFERENCES tenants(tenant_id),
              created_at \(int) NOT NULL
            );
            CREATE TABLE users (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              user_id TEXT NOT NULL,
              name TEXT NOT NULL,
              role TEXT NOT NULL CHECK (role IN (\(roles))),
              created_at \(int) NOT NULL,
              PRIMARY KEY (tenant_id, user_id),
              UNIQUE (tenant_id, name)
            );
            CREATE TABLE api_keys (
              tenant_id TEXT NOT NULL,
              key_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              secret_hash TEXT NOT NULL,
              created_at \(int) NOT NULL,
              PRIMARY KEY (tenant_id, key_id),
              FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, user_id)
            );
            CREATE UNIQUE INDEX api_keys_by_key ON api_keys(key_id);
            CREATE TABLE platform_apps (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              app_id TEXT NOT NULL,
              name TEXT NOT NULL,
              client_key TEXT NOT NULL CHECK (length(client_key) > 0),
              client_secret TEXT NOT NULL CHECK (length(client_secret) > 0),
              created_at \(int) NOT NULL,
              PRIMARY KEY (tenant_id, app_id)
            );
            CREATE UNIQUE INDEX platform_apps_by_client_key ON platform_apps(client_key);
            CREATE TABLE accounts (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              app_id TEXT NOT NULL,
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              time_zone TEXT NOT NULL,
              rules TEXT,
              rules_version \(int) NOT NULL DEFAULT 0,
              last_seq \(int) NOT NULL DEFAULT 0,
              created_at \(int) NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              UNIQUE (tenant_id, app_id, open_id),
              FOREIGN KEY (tenant_id, app_id) REFERENCES platform_apps(tenant_id, app_id)
            );
            CREATE UNIQUE INDEX accounts_by_id ON accounts(account_id);
            CREATE TABLE audit_log (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              audit_id TEXT \(binary)NOT NULL,
              at \(int) NOT NULL,
              actor TEXT NOT NULL,
              action TEXT NOT NULL,
              target TEXT NOT NULL,
              detail TEXT NOT NULL,
              PRIMARY KEY (tenant_id, audit_id)
            )\(rowless);
            CREATE TABLE webhook_deliveries (
              tenant_id TEXT NOT NULL,
              app_id TEXT NOT NULL,
              msg_id TEXT NOT NULL,
              event TEXT NOT NULL,
              account_id TEXT,
              received_at \(int) NOT NULL,
              body TEXT NOT NULL,
              PRIMARY KEY (tenant_id, app_id, msg_id),
              FOREIGN KEY (tenant_id, app_id) REFERENCES platform_apps(tenant_id, app_id)
            )\(rowless);
            \(eventsTable(dialect, name: "events", kinds: kinds));
            \(eventsIndexes.joined(separator: ";\n"));
            CREATE TABLE projection_checkpoints (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              last_seq \(int) NOT NULL,
              rules_version \(int) NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id)
            )\(rowless);
            CREATE TABLE fans (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT \(binary)NOT NULL,
              nickname TEXT,
              first_seen_at \(int) NOT NULL,
              last_active_at \(int) NOT NULL,
              first_domain TEXT NOT NULL CHECK (first_domain IN (\(domains))),
              first_channel TEXT NOT NULL CHECK (first_channel IN (\(channels))),
              latest_domain TEXT NOT NULL CHECK (latest_domain IN (\(domains))),
              latest_channel TEXT NOT NULL CHECK (latest_channel IN (\(channels))),
              following \(int) NOT NULL CHECK (following IN (0,1)),
              followed_at \(int),
              follow_changed_at \(int) NOT NULL,
              \(counters),
              gmv \(int) NOT NULL,
              intimacy \(int) NOT NULL CHECK (intimacy >= 0),
              level \(int) NOT NULL CHECK (level >= 0),
              ledger TEXT NOT NULL,
              tier \(int) NOT NULL CHECK (tier BETWEEN 0 AND 3),
              tier_changed_at \(int) NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id)
            )\(rowless);
            CREATE TABLE tier_transitions (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              cause_seq \(int) NOT NULL,
              at \(int) NOT NULL,
              from_tier \(int) CHECK (from_tier BETWEEN 0 AND 3),
              to_tier \(int) NOT NULL CHECK (to_tier BETWEEN 0 AND 3),
              cause TEXT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id, cause_seq)
            )\(rowless);
            CREATE TABLE tier_flow_daily (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day \(int) NOT NULL,
              from_tier \(int) NOT NULL CHECK (from_tier BETWEEN -1 AND 3),
              to_tier \(int) NOT NULL CHECK (to_tier BETWEEN 0 AND 3),
              fans \(int) NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day, from_tier, to_tier)
            )\(rowless);
            CREATE TABLE activity_daily (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day \(int) NOT NULL,
              domain TEXT NOT NULL CHECK (domain IN (\(domains))),
              channel TEXT NOT NULL CHECK (channel IN (\(channels))),
              events \(int) NOT NULL,
              new_fans \(int) NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day, domain, channel)
            )\(rowless);
            """.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
