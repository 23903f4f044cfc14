// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    /// `touchpoint`'s name as its number (EventCodes.touchpoints); the same text for both databases.
    /// A name no number stands for becomes 0, which reads as none, as an unknown name did.
    private static let v20TouchpointNumber = """
        CASE t.touchpoint WHEN 'live' THEN 1 WHEN 'dm' THEN 2 WHEN 'group' THEN 3 WHEN 'post' THEN 4 WHEN 'homepage' THEN 5 ELSE 0 END
        """

    static let v20 = Migration(
        version: "v20 fans' touches keyed by the log's stream",
        sqlite: [
            // A bulk batch touches nearly every fan, so a table keyed by fan gets a row in nearly
            // every one of its pages and the batch's commit writes the whole table again. Keyed by
            // the account's stream (an integer, as the log and the fans' runs are) with the
            // touchpoint as a number, a row is half as wide: a batch writes less than half the pages.
            // An account's touches come from its events, so it has a stream.
            """
            CREATE TABLE fan_touchpoints_v20 (
              stream INTEGER NOT NULL,
              open_id TEXT NOT NULL,
              day INTEGER NOT NULL,
              touchpoint INTEGER NOT NULL,
              first_at INTEGER NOT NULL,
              last_at INTEGER NOT NULL,
              PRIMARY KEY (stream, open_id, day, touchpoint)
            ) WITHOUT ROWID
            """,
            """
            INSERT INTO fan_touchpoints_v20
            SELECT s.stream, t.open_id, t.day, \(v20TouchpointNumber), t.first_at, t.last_at
            FROM fan_touchpoints t JOIN event_streams s ON s.tenant_id = t.tenant_id AND s.account_id = t.account_id
            ORDER BY 1, 2, 3, 4
            """,
            "DROP TABLE fan_touchpoints",
            "ALTER TABLE fan_touchpoints_v20 RENAME TO fan_touchpoints",
        ],
        postgres: [
            // As on SQLite; the tenant stays first, as in the log.
            """
            CREATE TABLE fan_touchpoints_v20 (
              tenant_id TEXT NOT NULL,
              stream BIGINT NOT NULL,
              open_id TEXT NOT NULL,
              day BIGINT NOT NULL,
              touchpoint SMALLINT NOT NULL,
              first_at BIGINT NOT NULL,
              last_at BIGINT NOT NULL,
              PRIMARY KEY (tenant_id, stream, open_id, day, touchpoint)
            )
            """,
            """
            INSERT INTO fan_touchpoints_v20
            SELECT t.tenant_id, s.stream, t.open_id, t.day, \(v20TouchpointNumber), t.first_at, t.last_at
            FROM fan_touchpoints t JOIN event_streams s ON s.tenant_id = t.tenant_id AND s.account_id = t.account_id
            """,
            "DROP TABLE fan_touchpoints",
            "ALTER TABLE fan_touchpoints_v20 RENAME TO fan_touchpoints",
            "ALTER INDEX fan_touchpoints_v20_pkey RENAME TO fan_touchpoints_pkey",
        ])
}
