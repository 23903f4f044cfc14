// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v15 = Migration(
        version: "v15 bulk jobs and matrix segments",
        sqlite: [
            // Work on many fans at once: the selection is fixed when the operator confirms, then worked through in steps.
            """
            CREATE TABLE bulk_jobs (
              tenant_id TEXT NOT NULL,
              job_id TEXT NOT NULL,
              operation TEXT NOT NULL,
              argument TEXT NOT NULL,
              people INTEGER NOT NULL,
              total INTEGER NOT NULL,
              done INTEGER NOT NULL,
              state TEXT NOT NULL,
              result TEXT NOT NULL,
              created_by TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              finished_at INTEGER,
              PRIMARY KEY (tenant_id, job_id)
            )
            """,
            "CREATE INDEX bulk_jobs_running ON bulk_jobs (state, created_at)",
            """
            CREATE TABLE bulk_job_items (
              tenant_id TEXT NOT NULL,
              job_id TEXT NOT NULL,
              n INTEGER NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT NOT NULL,
              PRIMARY KEY (tenant_id, job_id, n)
            ) WITHOUT ROWID
            """,
            // Segments of an enterprise's whole matrix: a person is in when one of its accounts' fans matches, or (merged) when the person does.
            """
            CREATE TABLE matrix_segments (
              tenant_id TEXT NOT NULL,
              segment_id TEXT NOT NULL,
              name TEXT NOT NULL,
              predicate TEXT NOT NULL,
              merged INTEGER NOT NULL,
              created_at INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, segment_id)
            )
            """,
        ],
        postgres: [
            """
            CREATE TABLE bulk_jobs (
              tenant_id TEXT NOT NULL,
              job_id TEXT NOT NULL,
              operation TEXT NOT NULL,
              argument TEXT NOT NULL,
              people BIGINT NOT NULL,
              total BIGINT NOT NULL,
              done BIGINT NOT NULL,
              state TEXT NOT NULL,
              result TEXT NOT NULL,
              created_by TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              finished_at BIGINT,
              PRIMARY KEY (tenant_id, job_id)
            )
            """,
            "CREATE INDEX bulk_jobs_running ON bulk_jobs (state, created_at)",
            """
            CREATE TABLE bulk_job_items (
              tenant_id TEXT NOT NULL,
              job_id TEXT NOT NULL,
              n BIGINT NOT NULL,
              account_id TEXT NOT NULL,
              open_id TEXT COLLATE "C" NOT NULL,
              PRIMARY KEY (tenant_id, job_id, n)
            )
            """,
            """
            CREATE TABLE matrix_segments (
              tenant_id TEXT NOT NULL,
              segment_id TEXT NOT NULL,
              name TEXT NOT NULL,
              predicate TEXT NOT NULL,
              merged BIGINT NOT NULL,
              created_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, segment_id)
            )
            """,
        ])
}
