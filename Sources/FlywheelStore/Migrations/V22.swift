// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v22 = Migration(
        version: "v22 SQLite's event ids found by their hash",
        sqlite: [
            // The unique index of the log's ids held each id's text: with an import's content ids
            // ("sha256:" and 64 digits) it grew past the writer's cache, each append of 50,000
            // rewrote most of its pages, and a million events took 8.9-9.1 s to append against
            // 2.2-2.5 s with ten-character ids (5.1-5.5 s with this). An id is now found by its
            // 64-bit FNV-1a hash, under 20 bytes an entry whatever the id. The k-th id of a stream
            // with a hash is entry (hash, k): an append puts its run's ids at k = 0 in one
            // statement, and only a taken entry makes it compare the ids under that hash
            // (`EventLog.Appender`).
            """
            CREATE TABLE event_ids (
              stream INTEGER NOT NULL,
              id_hash INTEGER NOT NULL,
              n INTEGER NOT NULL,
              seq INTEGER NOT NULL,
              PRIMARY KEY (stream, id_hash, n)
            ) WITHOUT ROWID
            """,
            """
            INSERT INTO event_ids (stream, id_hash, n, seq)
            SELECT stream, h, ROW_NUMBER() OVER (PARTITION BY stream, h ORDER BY seq) - 1, seq
            FROM (SELECT stream, flywheel_event_id_hash(event_id) AS h, seq FROM events)
            """,
            "DROP INDEX events_by_id",
        ],
        // Its log's ids are checked in one statement a batch (`PostgresStore.append`).
        postgres: [])
}
