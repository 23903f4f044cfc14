import FlywheelDomain
import FlywheelStore

/// Versioned migrations for PostgreSQL, the same tables as the SQLite schema. Every table's key
/// starts with `tenant_id`, the Citus distribution column (docs/scaling.md). Never edit a landed
/// migration; add the next one.
enum PostgresSchema {
    static let migrations: [(version: String, sql: String)] = [("v1 tenancy, event log, fans", v1)]

    static var v1: String {
        let list = { (values: [String]) in values.map { "'\($0)'" }.joined(separator: ",") }
        let kinds = list(EventKind.allCases.map(\.rawValue))
        let domains = list(SourceDomain.allCases.map(\.rawValue))
        let channels = list(Channel.allCases.map(\.rawValue))
        let roles = list(Role.allCases.map(\.rawValue))
        let counters = FanCounters.fields.map { "\($0.name) BIGINT NOT NULL DEFAULT 0 CHECK (\($0.name) >= 0)" }.joined(separator: ",\n")
        return """
            CREATE TABLE tenants (
              tenant_id TEXT NOT NULL PRIMARY KEY,
              name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
              kind TEXT NOT NULL CHECK (kind IN ('enterprise','provider')),
              provider_id TEXT REFERENCES tenants(tenant_id),
              created_at BIGINT NOT NULL
            );
            CREATE TABLE users (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              user_id TEXT NOT NULL,
              name TEXT NOT NULL,
              role TEXT NOT NULL CHECK (role IN (\(roles))),
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, user_id),
              UNIQUE (tenant_id, name)
            );
            CREATE TABLE api_keys (
              tenant_id TEXT NOT NULL,
              key_id TEXT NOT NULL,
              user_id TEXT NOT NULL,
              secret_hash TEXT NOT NULL,
              created_at BIGINT NOT NULL,
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
              created_at BIGINT NOT NULL,
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
              rules_version BIGINT NOT NULL DEFAULT 0,
              last_seq BIGINT NOT NULL DEFAULT 0,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              UNIQUE (tenant_id, app_id, open_id),
              FOREIGN KEY (tenant_id, app_id) REFERENCES platform_apps(tenant_id, app_id)
            );
            CREATE UNIQUE INDEX accounts_by_id ON accounts(account_id);
            CREATE TABLE audit_log (
              tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
              audit_id TEXT COLLATE "C" NOT NULL,
              at BIGINT NOT NULL,
              actor TEXT NOT NULL,
              action TEXT NOT NULL,
              target TEXT NOT NULL,
              detail TEXT NOT NULL,
              PRIMARY KEY (tenant_id, audit_id)
            );
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
            );
            CREATE TABLE events (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              seq BIGINT NOT NULL CHECK (seq > 0),
              event_id TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN (\(kinds))),
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              occurred_at BIGINT NOT NULL,
              domain TEXT NOT NULL CHECK (domain IN (\(domains))),
              channel TEXT NOT NULL CHECK (channel IN (\(channels))),
              amount BIGINT NOT NULL CHECK (amount >= 0),
              ref TEXT,
              attributes TEXT,
              PRIMARY KEY (tenant_id, account_id, seq)
            );
            CREATE UNIQUE INDEX events_by_id ON events(tenant_id, account_id, event_id);
            CREATE INDEX events_by_fan ON events(tenant_id, account_id, open_id, seq);
            CREATE TABLE projection_checkpoints (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              last_seq BIGINT NOT NULL,
              rules_version BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id)
            );
            CREATE TABLE fans (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT COLLATE "C" NOT NULL,
              nickname TEXT,
              first_seen_at BIGINT NOT NULL,
              last_active_at BIGINT NOT NULL,
              first_domain TEXT NOT NULL CHECK (first_domain IN (\(domains))),
              first_channel TEXT NOT NULL CHECK (first_channel IN (\(channels))),
              latest_domain TEXT NOT NULL CHECK (latest_domain IN (\(domains))),
              latest_channel TEXT NOT NULL CHECK (latest_channel IN (\(channels))),
              following BIGINT NOT NULL CHECK (following IN (0,1)),
              followed_at BIGINT,
              follow_changed_at BIGINT NOT NULL,
              \(counters),
              gmv BIGINT NOT NULL,
              intimacy BIGINT NOT NULL CHECK (intimacy >= 0),
              level BIGINT NOT NULL CHECK (level >= 0),
              ledger TEXT NOT NULL,
              tier BIGINT NOT NULL CHECK (tier BETWEEN 0 AND 3),
              tier_changed_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, open_id)
            );
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
            );
            CREATE TABLE tier_flow_daily (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day BIGINT NOT NULL,
              from_tier BIGINT NOT NULL CHECK (from_tier BETWEEN -1 AND 3),
              to_tier BIGINT NOT NULL CHECK (to_tier BETWEEN 0 AND 3),
              fans BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day, from_tier, to_tier)
            );
            CREATE TABLE activity_daily (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              day BIGINT NOT NULL,
              domain TEXT NOT NULL CHECK (domain IN (\(domains))),
              channel TEXT NOT NULL CHECK (channel IN (\(channels))),
              events BIGINT NOT NULL,
              new_fans BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, day, domain, channel)
            );
            """
    }
}
