// Frozen: this migration has run on databases in the field. Never edit it; add a new one.
extension Migration {
    static let v2 = Migration(
        version: "v2 segments",
        sqlite: [
            """
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
            )
            """,
            """
            CREATE TABLE segment_members (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              segment_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              since INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, segment_id, open_id)
            ) WITHOUT ROWID
            """,
            """
            CREATE INDEX segment_members_by_fan ON segment_members(tenant_id, account_id, open_id)
            """,
            """
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
            ) WITHOUT ROWID
            """,
            """
            CREATE INDEX segment_changes_by_time ON segment_changes(tenant_id, account_id, segment_id, at)
            """,
        ],
        postgres: [
            """
            CREATE TABLE segments (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              segment_id TEXT NOT NULL,
              name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
              predicate TEXT NOT NULL,
              state TEXT NOT NULL CHECK (state IN ('building','ready','failed')),
              failure TEXT,
              size BIGINT NOT NULL DEFAULT 0 CHECK (size >= 0),
              checked_at BIGINT NOT NULL DEFAULT 0,
              created_at BIGINT NOT NULL,
              updated_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, segment_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id)
            )
            """,
            """
            CREATE TABLE segment_members (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              segment_id TEXT NOT NULL,
              open_id TEXT COLLATE "C" NOT NULL,
              since BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, segment_id, open_id)
            )
            """,
            """
            CREATE INDEX segment_members_by_fan ON segment_members(tenant_id, account_id, open_id)
            """,
            """
            CREATE TABLE segment_changes (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              segment_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              cause_seq BIGINT NOT NULL,
              at BIGINT NOT NULL,
              entered BIGINT NOT NULL CHECK (entered IN (0,1)),
              cause TEXT NOT NULL,
              PRIMARY KEY (tenant_id, account_id, segment_id, open_id, cause_seq)
            )
            """,
            """
            CREATE INDEX segment_changes_by_time ON segment_changes(tenant_id, account_id, segment_id, at)
            """,
        ]
    )
}
