-- The schema and bookkeeping of release 4 (migrations v1 to v4, as they landed), with a few rows:
-- what a database in the field looks like before this build upgrades it. Statements end with ';' on its own line end.
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
  role TEXT NOT NULL CHECK (role IN ('owner','admin','operator','agent','analyst')),
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
  kind TEXT NOT NULL CHECK (kind IN ('follow','unfollow','video_view','like','comment','share','live_watch','live_gift','live_share','dm_received','dm_sent','dm_entered','group_join','group_leave','group_message','homepage_visit','lead_submitted','order_paid','order_refunded','coupon_claimed','coupon_redeemed')),
  open_id TEXT NOT NULL CHECK (length(open_id) > 0),
  occurred_at INTEGER NOT NULL,
  domain TEXT NOT NULL CHECK (domain IN ('public','commercial','private','offsite')),
  channel TEXT NOT NULL CHECK (channel IN ('recommend_feed','search','live_square','city','challenge','live_list','dou_plus','brand_ad','qianchuan','follow_feed','homepage','live_feed','subscription','dm','group','wechat','offsite_pool','unknown')),
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
  domain TEXT NOT NULL CHECK (domain IN ('public','commercial','private','offsite')),
  channel TEXT NOT NULL CHECK (channel IN ('recommend_feed','search','live_square','city','challenge','live_list','dou_plus','brand_ad','qianchuan','follow_feed','homepage','live_feed','subscription','dm','group','wechat','offsite_pool','unknown')),
  events INTEGER NOT NULL,
  new_fans INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, account_id, day, domain, channel)
) WITHOUT ROWID;

CREATE TABLE segments (
  tenant_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  predicate TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('building','ready','failed')),
  failure TEXT,
  size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
  checked_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, account_id, segment_id),
  FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id)
);

CREATE TABLE segment_members (
  tenant_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  open_id TEXT NOT NULL,
  since INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, account_id, segment_id, open_id)
) WITHOUT ROWID;

CREATE INDEX segment_members_by_fan ON segment_members(tenant_id, account_id, open_id);

CREATE TABLE segment_changes (
  tenant_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  open_id TEXT NOT NULL,
  cause_seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  entered INTEGER NOT NULL CHECK (entered IN (0,1)),
  cause TEXT NOT NULL,
  PRIMARY KEY (tenant_id, account_id, segment_id, open_id, cause_seq)
) WITHOUT ROWID;

CREATE INDEX segment_changes_by_time ON segment_changes(tenant_id, account_id, segment_id, at);

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
) WITHOUT ROWID;

INSERT INTO events_v3 SELECT * FROM events;

DROP TABLE events;

ALTER TABLE events_v3 RENAME TO events;

CREATE UNIQUE INDEX events_by_id ON events(tenant_id, account_id, event_id);

CREATE INDEX events_by_fan ON events(tenant_id, account_id, open_id, seq);

ALTER TABLE fans ADD COLUMN gender TEXT;

ALTER TABLE fans ADD COLUMN age_band TEXT;

ALTER TABLE fans ADD COLUMN region TEXT;

ALTER TABLE fans ADD COLUMN city TEXT;

ALTER TABLE fans ADD COLUMN device TEXT;

ALTER TABLE fans ADD COLUMN phone TEXT;

ALTER TABLE fans ADD COLUMN last_ordered_at INTEGER;

ALTER TABLE fans ADD COLUMN interests TEXT NOT NULL DEFAULT '';

ALTER TABLE fans ADD COLUMN profile_changed_at INTEGER NOT NULL DEFAULT 0;

ALTER TABLE fans ADD COLUMN tags TEXT NOT NULL DEFAULT '';

ALTER TABLE fans ADD COLUMN fan_groups TEXT NOT NULL DEFAULT '';

CREATE TABLE tags (
  tenant_id TEXT NOT NULL REFERENCES tenants(tenant_id),
  name TEXT NOT NULL,
  tag_group TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE fan_actions (
  tenant_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  open_id TEXT NOT NULL,
  cause_seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (tenant_id, account_id, open_id, cause_seq, action, detail)
) WITHOUT ROWID;

CREATE INDEX segment_changes_by_fan ON segment_changes(tenant_id, account_id, open_id, at);

ALTER TABLE users ADD COLUMN password_hash TEXT;

CREATE TABLE sessions (
  session_hash TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, user_id)
);

CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);

INSERT INTO grdb_migrations VALUES ('v1 tenancy, event log, fans');

INSERT INTO grdb_migrations VALUES ('v2 segments');

INSERT INTO grdb_migrations VALUES ('v3 profiles, tags, operator actions');

INSERT INTO grdb_migrations VALUES ('v4 console sign-in');

INSERT INTO tenants (tenant_id, name, kind, provider_id, created_at) VALUES ('ten_a', 'Acme Liquor', 'enterprise', NULL, 1767225600000);

INSERT INTO users (tenant_id, user_id, name, role, created_at, password_hash) VALUES ('ten_a', 'usr_a', 'owner', 'owner', 1767225600000, NULL);

INSERT INTO api_keys (tenant_id, key_id, user_id, secret_hash, created_at) VALUES ('ten_a', 'key_a', 'usr_a', 'h', 1767225600000);

INSERT INTO platform_apps (tenant_id, app_id, name, client_key, client_secret, created_at) VALUES ('ten_a', 'app_a', 'app', 'ck_a', 's', 1767225600000);

INSERT INTO accounts (tenant_id, account_id, name, app_id, open_id, time_zone, rules, rules_version, last_seq, created_at) VALUES ('ten_a', 'acc_a', 'main', 'app_a', 'acct-open-id', 'Asia/Shanghai', NULL, 0, 2, 1767225600000);

INSERT INTO events (tenant_id, account_id, seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes) VALUES ('ten_a', 'acc_a', 1, 'e1', 'follow', 'fan1', 1767225600000, 'public', 'search', 0, NULL, NULL);

INSERT INTO events (tenant_id, account_id, seq, event_id, kind, open_id, occurred_at, domain, channel, amount, ref, attributes) VALUES ('ten_a', 'acc_a', 2, 'e2', 'tag_added', 'fan1', 1767225600001, 'public', 'unknown', 0, 'vip', NULL);

INSERT INTO projection_checkpoints (tenant_id, account_id, last_seq, rules_version) VALUES ('ten_a', 'acc_a', 2, 0);

INSERT INTO fans (tenant_id, account_id, open_id, nickname, first_seen_at, last_active_at, first_domain, first_channel, latest_domain, latest_channel, following, followed_at, follow_changed_at, gmv, intimacy, level, ledger, tier, tier_changed_at, tags) VALUES ('ten_a', 'acc_a', 'fan1', NULL, 1767225600000, 1767225600000, 'public', 'search', 'public', 'search', 1, 1767225600000, 1767225600000, 0, 0, 0, '', 1, 1767225600000, 'vip');

INSERT INTO activity_daily (tenant_id, account_id, day, domain, channel, events, new_fans) VALUES ('ten_a', 'acc_a', 20454, 'public', 'search', 1, 1);

INSERT INTO sessions (session_hash, tenant_id, user_id, csrf, created_at, expires_at) VALUES ('sess_hash', 'ten_a', 'usr_a', 'csrf', 1767225600000, 4102444700000);

