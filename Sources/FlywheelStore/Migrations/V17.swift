// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v17 = Migration(
        version: "v17 journeys and experiments",
        sqlite: [
            // A journey's head: where it stands and its experiment's shares, fixed at launch; its definitions are versions.
            """
            CREATE TABLE journeys (
              tenant_id TEXT NOT NULL,
              journey_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              version INTEGER NOT NULL,
              state TEXT NOT NULL,
              holdout_percent INTEGER NOT NULL,
              control_percent INTEGER NOT NULL,
              created_at INTEGER NOT NULL,
              launched_at INTEGER,
              PRIMARY KEY (tenant_id, journey_id)
            )
            """,
            "CREATE INDEX journeys_by_account ON journeys (tenant_id, account_id, state)",
            // The enterprise's global control group: the share of its fans no automated action reaches.
            "CREATE TABLE experiment_settings (tenant_id TEXT PRIMARY KEY, control_percent INTEGER NOT NULL)",
            """
            CREATE TABLE journey_versions (
              tenant_id TEXT NOT NULL,
              journey_id TEXT NOT NULL,
              version INTEGER NOT NULL,
              definition TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, journey_id, version)
            )
            """,
            // One row per entry: the version it follows, its arm, where it is and when it is due.
            """
            CREATE TABLE journey_runs (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              journey_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              entered_seq INTEGER NOT NULL,
              version INTEGER NOT NULL,
              arm TEXT NOT NULL,
              step INTEGER NOT NULL,
              state TEXT NOT NULL,
              due_at INTEGER NOT NULL,
              waiting_for TEXT,
              entered_at INTEGER NOT NULL,
              revision INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, journey_id, open_id, entered_seq)
            )
            """,
            "CREATE INDEX journey_runs_due ON journey_runs (due_at) WHERE state = 'waiting'",
            "CREATE INDEX journey_runs_waiting ON journey_runs (tenant_id, account_id, open_id) WHERE waiting_for IS NOT NULL",
            "CREATE INDEX journey_runs_by_journey ON journey_runs (tenant_id, journey_id, arm)",
            // What each step did to the fan: the fan's timeline and the change feed read it.
            """
            CREATE TABLE journey_steps (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              journey_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              entered_seq INTEGER NOT NULL,
              step INTEGER NOT NULL,
              kind TEXT NOT NULL,
              outcome TEXT NOT NULL,
              at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, journey_id, open_id, entered_seq, step)
            )
            """,
            "CREATE INDEX journey_steps_by_fan ON journey_steps (tenant_id, account_id, open_id, at)",
            // A post's holdout: subscribers of its audience it was kept from, measured against those it reached.
            "ALTER TABLE posts ADD COLUMN holdout_percent INTEGER NOT NULL DEFAULT 0",
            // The Idempotency-Key of the claim that took a share: the same claim asked again answers that share.
            "ALTER TABLE envelope_shares ADD COLUMN request_key TEXT",
            """
            CREATE TABLE post_holdouts (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              post_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, post_id, open_id)
            )
            """,
            """
            CREATE TRIGGER changes_on_journey_step AFTER INSERT ON journey_steps BEGIN
              INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data) VALUES (NEW.tenant_id, NEW.account_id, 'journey_step', NEW.open_id, NEW.at,
                json_object('journeyId', NEW.journey_id, 'step', NEW.step, 'kind', NEW.kind, 'outcome', NEW.outcome));
            END
            """,
        ],
        postgres: [
            """
            CREATE TABLE journeys (
              tenant_id TEXT NOT NULL,
              journey_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              name TEXT NOT NULL,
              version BIGINT NOT NULL,
              state TEXT NOT NULL,
              holdout_percent BIGINT NOT NULL,
              control_percent BIGINT NOT NULL,
              created_at BIGINT NOT NULL,
              launched_at BIGINT,
              PRIMARY KEY (tenant_id, journey_id)
            )
            """,
            "CREATE INDEX journeys_by_account ON journeys (tenant_id, account_id, state)",
            "CREATE TABLE experiment_settings (tenant_id TEXT PRIMARY KEY, control_percent BIGINT NOT NULL)",
            """
            CREATE TABLE journey_versions (
              tenant_id TEXT NOT NULL,
              journey_id TEXT NOT NULL,
              version BIGINT NOT NULL,
              definition TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, journey_id, version)
            )
            """,
            """
            CREATE TABLE journey_runs (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              journey_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              entered_seq BIGINT NOT NULL,
              version BIGINT NOT NULL,
              arm TEXT NOT NULL,
              step BIGINT NOT NULL,
              state TEXT NOT NULL,
              due_at BIGINT NOT NULL,
              waiting_for TEXT,
              entered_at BIGINT NOT NULL,
              revision BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, journey_id, open_id, entered_seq)
            )
            """,
            "CREATE INDEX journey_runs_due ON journey_runs (due_at) WHERE state = 'waiting'",
            "CREATE INDEX journey_runs_waiting ON journey_runs (tenant_id, account_id, open_id) WHERE waiting_for IS NOT NULL",
            "CREATE INDEX journey_runs_by_journey ON journey_runs (tenant_id, journey_id, arm)",
            """
            CREATE TABLE journey_steps (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              journey_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              entered_seq BIGINT NOT NULL,
              step BIGINT NOT NULL,
              kind TEXT NOT NULL,
              outcome TEXT NOT NULL,
              at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, journey_id, open_id, entered_seq, step)
            )
            """,
            "CREATE INDEX journey_steps_by_fan ON journey_steps (tenant_id, account_id, open_id, at)",
            "ALTER TABLE posts ADD COLUMN holdout_percent BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE envelope_shares ADD COLUMN request_key TEXT",
            """
            CREATE TABLE post_holdouts (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              post_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, post_id, open_id)
            )
            """,
            """
            CREATE FUNCTION changes_on_journey_step() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              PERFORM pg_advisory_xact_lock(7220016);
              INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data) VALUES (NEW.tenant_id, NEW.account_id, 'journey_step', NEW.open_id, NEW.at,
                json_build_object('journeyId', NEW.journey_id, 'step', NEW.step, 'kind', NEW.kind, 'outcome', NEW.outcome)::text);
              RETURN NULL;
            END $$
            """,
            "CREATE TRIGGER changes_on_journey_step AFTER INSERT ON journey_steps FOR EACH ROW EXECUTE FUNCTION changes_on_journey_step()",
        ])
}
