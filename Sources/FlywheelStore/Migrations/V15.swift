// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v15 = Migration(
        version: "v15 bulk jobs",
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
        ])
}
