import FlywheelDomain
import FlywheelStore
import GRDB

/// Versioned migrations; a migration is never edited once it has landed, only followed by another.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 tenancy, event log, fans") { db in
            let kinds = EventKind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
            let domains = SourceDomain.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
            let channels = Channel.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
            let roles = Role.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
            let counters = FanCounters.fields.map { "\($0.name) INTEGER NOT NULL DEFAULT 0 CHECK (\($0.name) >= 0)" }
                .joined(separator: ",\n")
            try db.execute(sql: """
                CREATE TABLE tenants (
                  tenant_id TEXT NOT NULL PRIMARY KEY,
                  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
                  kind TEXT NOT NULL CHECK (kind IN ('enterprise','provider')),
                  provider_id TEXT REFERENCES tenants(tenant_id),
                  created_at INTEGER NOT NULL
                );
                CREATE TABLE users (
                  tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
                  user_id TEXT NOT NULL,
                  name TEXT NOT NULL,
                  role TEXT NOT NULL CHECK (role IN (\(roles))),
                  created_at INTEGER NOT NULL,
                  PRIMARY KEY (tenant_id, user_id),
                  UNIQUE (tenant_id, name)
                );
                CREATE TABLE api_keys (
                  tenant_id TEXT NOT NULL,
                  key_id TEXT NOT NULL,
                  user_id TEXT NOT NULL,
                  secret_hash TEXT NOT NULL,
                  created_at INTEGER NOT NULL,
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
                  created_at INTEGER NOT NULL,
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
                  rules_version INTEGER NOT NULL DEFAULT 0,
                  last_seq INTEGER NOT NULL DEFAULT 0,
                  created_at INTEGER NOT NULL,
                  PRIMARY KEY (tenant_id, account_id),
                  UNIQUE (tenant_id, app_id, open_id),
                  FOREIGN KEY (tenant_id, app_id) REFERENCES platform_apps(tenant_id, app_id)
                );
                CREATE UNIQUE INDEX accounts_by_id ON accounts(account_id);
                CREATE TABLE audit_log (
                  tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
                  audit_id TEXT NOT NULL,
                  at INTEGER NOT NULL,
                  actor TEXT NOT NULL,
                  action TEXT NOT NULL,
                  target TEXT NOT NULL,
                  detail TEXT NOT NULL,
                  PRIMARY KEY (tenant_id, audit_id)
                ) WITHOUT ROWID;
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
                ) WITHOUT ROWID;
                CREATE TABLE events (
                  tenant_id TEXT NOT NULL,
                  account_id TEXT NOT NULL,
                  seq INTEGER NOT NULL CHECK (seq > 0),
                  event_id TEXT NOT NULL,
                  kind TEXT NOT NULL CHECK (kind IN (\(kinds))),
                  open_id TEXT NOT NULL CHECK (length(open_id) > 0),
                  occurred_at INTEGER NOT NULL,
                  domain TEXT NOT NULL CHECK (domain IN (\(domains))),
                  channel TEXT NOT NULL CHECK (channel IN (\(channels))),
                  amount INTEGER NOT NULL CHECK (amount >= 0),
                  ref TEXT,
                  attributes TEXT,
                  PRIMARY KEY (tenant_id, account_id, seq)
                ) WITHOUT ROWID;
                CREATE UNIQUE INDEX events_by_id ON events(tenant_id, account_id, event_id);
                CREATE INDEX events_by_fan ON events(tenant_id, account_id, open_id, seq);
                CREATE TABLE projection_checkpoints (
                  tenant_id TEXT NOT NULL,
                  account_id TEXT NOT NULL,
                  last_seq INTEGER NOT NULL,
                  rules_version INTEGER NOT NULL,
                  PRIMARY KEY (tenant_id, account_id),
                  FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id)
                ) WITHOUT ROWID;
                CREATE TABLE fans (
                  tenant_id TEXT NOT NULL,
                  account_id TEXT NOT NULL,
                  open_id TEXT NOT NULL,
                  nickname TEXT,
                  first_seen_at INTEGER NOT NULL,
                  last_active_at INTEGER NOT NULL,
                  first_domain TEXT NOT NULL CHECK (first_domain IN (\(domains))),
                  first_channel TEXT NOT NULL CHECK (first_channel IN (\(channels))),
                  latest_domain TEXT NOT NULL CHECK (latest_domain IN (\(domains))),
                  latest_channel TEXT NOT NULL CHECK (latest_channel IN (\(channels))),
                  following INTEGER NOT NULL CHECK (following IN (0,1)),
                  followed_at INTEGER,
                  follow_changed_at INTEGER NOT NULL,
                  \(counters),
                  gmv INTEGER NOT NULL,
                  intimacy INTEGER NOT NULL CHECK (intimacy >= 0),
                  level INTEGER NOT NULL CHECK (level >= 0),
                  ledger TEXT NOT NULL,
                  tier INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 3),
                  tier_changed_at INTEGER NOT NULL,
                  PRIMARY KEY (tenant_id, account_id, open_id)
                ) WITHOUT ROWID;
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
                ) WITHOUT ROWID;
                CREATE TABLE tier_flow_daily (
                  tenant_id TEXT NOT NULL,
                  account_id TEXT NOT NULL,
                  day INTEGER NOT NULL,
                  from_tier INTEGER NOT NULL CHECK (from_tier BETWEEN -1 AND 3),
                  to_tier INTEGER NOT NULL CHECK (to_tier BETWEEN 0 AND 3),
                  fans INTEGER NOT NULL,
                  PRIMARY KEY (tenant_id, account_id, day, from_tier, to_tier)
                ) WITHOUT ROWID;
                CREATE TABLE activity_daily (
                  tenant_id TEXT NOT NULL,
                  account_id TEXT NOT NULL,
                  day INTEGER NOT NULL,
                  domain TEXT NOT NULL CHECK (domain IN (\(domains))),
                  channel TEXT NOT NULL CHECK (channel IN (\(channels))),
                  events INTEGER NOT NULL,
                  new_fans INTEGER NOT NULL,
                  PRIMARY KEY (tenant_id, account_id, day, domain, channel)
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }
}
