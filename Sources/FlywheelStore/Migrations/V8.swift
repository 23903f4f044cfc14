// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v8 = Migration(
        version: "v8 compact event log",
        sqlite: [
            // Each account's log is a stream numbered by the database: the log and its index carry
            // that integer instead of two 36-character ids on every row (a third of the bytes
            // written per event). SQLite is one file on one node; sharding by tenant concerns
            // PostgreSQL, whose log keeps tenant_id first.
            """
            CREATE TABLE event_streams (
              stream INTEGER PRIMARY KEY,
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              UNIQUE (tenant_id, account_id)
            )
            """,
            "INSERT INTO event_streams (tenant_id, account_id) SELECT tenant_id, account_id FROM accounts ORDER BY created_at, account_id",
            """
            CREATE TABLE events_v8 (
              stream INTEGER NOT NULL,
              seq INTEGER NOT NULL CHECK (seq > 0),
              event_id TEXT NOT NULL,
              kind TEXT NOT NULL,
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              occurred_at INTEGER NOT NULL,
              domain TEXT NOT NULL,
              channel TEXT NOT NULL,
              amount INTEGER NOT NULL CHECK (amount >= 0),
              ref TEXT,
              attributes TEXT,
              PRIMARY KEY (stream, seq)
            ) WITHOUT ROWID
            """,
            """
            INSERT INTO events_v8 SELECT s.stream, e.seq, e.event_id, e.kind, e.open_id, e.occurred_at, e.domain, e.channel, e.amount, e.ref, e.attributes
            FROM events e JOIN event_streams s ON s.tenant_id = e.tenant_id AND s.account_id = e.account_id
            """,
            "DROP TABLE events",
            "ALTER TABLE events_v8 RENAME TO events",
            "CREATE UNIQUE INDEX events_by_id ON events(stream, event_id)",
            // A fan's events are found through runs the projector writes, a row per fan and batch,
            // instead of an index entry per event put in at random places as events arrive.
            """
            CREATE TABLE fan_event_runs (
              stream INTEGER NOT NULL,
              open_id TEXT NOT NULL,
              first_seq INTEGER NOT NULL,
              seqs TEXT NOT NULL,
              PRIMARY KEY (stream, open_id, first_seq)
            ) WITHOUT ROWID
            """,
            """
            INSERT INTO fan_event_runs
            SELECT e.stream, e.open_id, MIN(e.seq), group_concat(e.seq, ',')
            FROM (SELECT stream, open_id, seq FROM events ORDER BY stream, open_id, seq) e
            JOIN event_streams s ON s.stream = e.stream
            JOIN projection_checkpoints c ON c.tenant_id = s.tenant_id AND c.account_id = s.account_id
            WHERE e.seq <= c.last_seq
            GROUP BY e.stream, e.open_id
            """,
        ],
        postgres: [
            """
            CREATE TABLE event_streams (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              stream BIGINT GENERATED ALWAYS AS IDENTITY,
              PRIMARY KEY (tenant_id, account_id),
              UNIQUE (tenant_id, stream)
            )
            """,
            "INSERT INTO event_streams (tenant_id, account_id) SELECT tenant_id, account_id FROM accounts ORDER BY created_at, account_id",
            """
            CREATE TABLE events_v8 (
              tenant_id TEXT NOT NULL,
              stream BIGINT NOT NULL,
              seq BIGINT NOT NULL CHECK (seq > 0),
              event_id TEXT NOT NULL,
              kind TEXT NOT NULL,
              open_id TEXT NOT NULL CHECK (length(open_id) > 0),
              occurred_at BIGINT NOT NULL,
              domain TEXT NOT NULL,
              channel TEXT NOT NULL,
              amount BIGINT NOT NULL CHECK (amount >= 0),
              ref TEXT,
              attributes TEXT,
              PRIMARY KEY (tenant_id, stream, seq)
            )
            """,
            """
            INSERT INTO events_v8 SELECT e.tenant_id, s.stream, e.seq, e.event_id, e.kind, e.open_id, e.occurred_at, e.domain, e.channel, e.amount, e.ref, e.attributes
            FROM events e JOIN event_streams s ON s.tenant_id = e.tenant_id AND s.account_id = e.account_id
            """,
            "DROP TABLE events",
            "ALTER TABLE events_v8 RENAME TO events",
            "ALTER INDEX events_v8_pkey RENAME TO events_pkey",
            "CREATE UNIQUE INDEX events_by_id ON events(tenant_id, stream, event_id)",
            """
            CREATE TABLE fan_event_runs (
              tenant_id TEXT NOT NULL,
              stream BIGINT NOT NULL,
              open_id TEXT NOT NULL,
              first_seq BIGINT NOT NULL,
              seqs TEXT NOT NULL,
              PRIMARY KEY (tenant_id, stream, open_id, first_seq)
            )
            """,
            """
            INSERT INTO fan_event_runs
            SELECT e.tenant_id, e.stream, e.open_id, MIN(e.seq), string_agg(e.seq::text, ',' ORDER BY e.seq)
            FROM events e
            JOIN event_streams s ON s.tenant_id = e.tenant_id AND s.stream = e.stream
            JOIN projection_checkpoints c ON c.tenant_id = s.tenant_id AND c.account_id = s.account_id
            WHERE e.seq <= c.last_seq
            GROUP BY e.tenant_id, e.stream, e.open_id
            """,
        ]
    )
}
