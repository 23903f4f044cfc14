// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    /// A tier number as its name, in SQL.
    private static func tierName(_ column: String) -> String {
        "CASE \(column) WHEN 0 THEN 'potential' WHEN 1 THEN 'passerby' WHEN 2 THEN 'liking' WHEN 3 THEN 'true_love' END"
    }

    static let v16 = Migration(
        version: "v16 change feed and webhook endpoints",
        sqlite: [
            // Every change a listener may want, in commit order, written by triggers in the transaction that made it
            // (PostgreSQL: a transaction lock taken before each insert makes commit order the order of `seq`).
            """
            CREATE TABLE changes (
              seq INTEGER PRIMARY KEY AUTOINCREMENT,
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              kind TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at INTEGER NOT NULL,
              data TEXT NOT NULL,
              created_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
            )
            """,
            "CREATE INDEX changes_by_tenant ON changes (tenant_id, seq)",
            """
            CREATE TRIGGER changes_on_tier AFTER INSERT ON tier_transitions BEGIN
              INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data) VALUES (NEW.tenant_id, NEW.account_id, 'tier_changed', NEW.open_id, NEW.at,
                json_object('from', \(tierName("NEW.from_tier")), 'to', \(tierName("NEW.to_tier")), 'cause', NEW.cause));
            END
            """,
            """
            CREATE TRIGGER changes_on_segment AFTER INSERT ON segment_changes BEGIN
              INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data) VALUES (NEW.tenant_id, NEW.account_id,
                CASE WHEN NEW.entered = 1 THEN 'segment_entered' ELSE 'segment_left' END, NEW.open_id, NEW.at,
                json_object('segmentId', NEW.segment_id, 'cause', NEW.cause));
            END
            """,
            """
            CREATE TRIGGER changes_on_lead AFTER INSERT ON leads BEGIN
              INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data) VALUES (NEW.tenant_id, NEW.account_id, 'lead_created', NEW.open_id, NEW.created_at,
                json_object('leadId', NEW.lead_id, 'channel', NEW.channel, 'domain', NEW.domain));
            END
            """,
            """
            CREATE TRIGGER changes_on_breach AFTER INSERT ON desk_events WHEN NEW.kind = 'sla_breached' BEGIN
              INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data) VALUES (NEW.tenant_id, NEW.account_id, 'sla_breached', NEW.open_id, NEW.at,
                json_object('agent', NEW.agent, 'detail', NEW.detail));
            END
            """,
            // Customers' endpoints: where they are, what they want, how far delivery has gone, and each attempt.
            """
            CREATE TABLE webhook_endpoints (
              tenant_id TEXT NOT NULL,
              endpoint_id TEXT NOT NULL,
              url TEXT NOT NULL,
              secret TEXT NOT NULL,
              kinds TEXT NOT NULL,
              cursor INTEGER NOT NULL,
              state TEXT NOT NULL,
              failures INTEGER NOT NULL,
              next_attempt_at INTEGER NOT NULL,
              disabled_reason TEXT,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, endpoint_id)
            )
            """,
            """
            CREATE TABLE webhook_attempts (
              tenant_id TEXT NOT NULL,
              delivery_id TEXT NOT NULL,
              endpoint_id TEXT NOT NULL,
              first_seq INTEGER NOT NULL,
              last_seq INTEGER NOT NULL,
              status INTEGER,
              error TEXT,
              milliseconds INTEGER NOT NULL,
              at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, delivery_id)
            )
            """,
            "CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (tenant_id, endpoint_id, at)",
        ],
        postgres: [
            """
            CREATE TABLE changes (
              seq BIGSERIAL NOT NULL,
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              kind TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at BIGINT NOT NULL,
              data TEXT NOT NULL,
              created_at BIGINT NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT,
              PRIMARY KEY (tenant_id, seq)
            )
            """,
            """
            CREATE FUNCTION changes_on_tier() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              PERFORM pg_advisory_xact_lock(7220016);
              INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data) VALUES (NEW.tenant_id, NEW.account_id, 'tier_changed', NEW.open_id, NEW.at,
                json_build_object('from', \(tierName("NEW.from_tier")), 'to', \(tierName("NEW.to_tier")), 'cause', NEW.cause)::text);
              RETURN NULL;
            END $$
            """,
            "CREATE TRIGGER changes_on_tier AFTER INSERT ON tier_transitions FOR EACH ROW EXECUTE FUNCTION changes_on_tier()",
            """
            CREATE FUNCTION changes_on_segment() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              PERFORM pg_advisory_xact_lock(7220016);
              INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data) VALUES (NEW.tenant_id, NEW.account_id,
                CASE WHEN NEW.entered = 1 THEN 'segment_entered' ELSE 'segment_left' END, NEW.open_id, NEW.at,
                json_build_object('segmentId', NEW.segment_id, 'cause', NEW.cause)::text);
              RETURN NULL;
            END $$
            """,
            "CREATE TRIGGER changes_on_segment AFTER INSERT ON segment_changes FOR EACH ROW EXECUTE FUNCTION changes_on_segment()",
            """
            CREATE FUNCTION changes_on_lead() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              PERFORM pg_advisory_xact_lock(7220016);
              INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data) VALUES (NEW.tenant_id, NEW.account_id, 'lead_created', NEW.open_id, NEW.created_at,
                json_build_object('leadId', NEW.lead_id, 'channel', NEW.channel, 'domain', NEW.domain)::text);
              RETURN NULL;
            END $$
            """,
            "CREATE TRIGGER changes_on_lead AFTER INSERT ON leads FOR EACH ROW EXECUTE FUNCTION changes_on_lead()",
            """
            CREATE FUNCTION changes_on_breach() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              PERFORM pg_advisory_xact_lock(7220016);
              INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data) VALUES (NEW.tenant_id, NEW.account_id, 'sla_breached', NEW.open_id, NEW.at,
                json_build_object('agent', NEW.agent, 'detail', NEW.detail)::text);
              RETURN NULL;
            END $$
            """,
            "CREATE TRIGGER changes_on_breach AFTER INSERT ON desk_events FOR EACH ROW WHEN (NEW.kind = 'sla_breached') EXECUTE FUNCTION changes_on_breach()",
            """
            CREATE TABLE webhook_endpoints (
              tenant_id TEXT NOT NULL,
              endpoint_id TEXT NOT NULL,
              url TEXT NOT NULL,
              secret TEXT NOT NULL,
              kinds TEXT NOT NULL,
              cursor BIGINT NOT NULL,
              state TEXT NOT NULL,
              failures BIGINT NOT NULL,
              next_attempt_at BIGINT NOT NULL,
              disabled_reason TEXT,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, endpoint_id)
            )
            """,
            """
            CREATE TABLE webhook_attempts (
              tenant_id TEXT NOT NULL,
              delivery_id TEXT NOT NULL,
              endpoint_id TEXT NOT NULL,
              first_seq BIGINT NOT NULL,
              last_seq BIGINT NOT NULL,
              status BIGINT,
              error TEXT,
              milliseconds BIGINT NOT NULL,
              at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, delivery_id)
            )
            """,
            "CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (tenant_id, endpoint_id, at)",
        ])
}
