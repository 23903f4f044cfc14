// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    /// `touchpoint`'s name as its number (EventCodes.touchpoints); the same text for both databases.
    /// A name no number stands for becomes 0, which reads as none, as an unknown name did.
    private static let v20TouchpointNumber = """
        CASE t.touchpoint WHEN 'live' THEN 1 WHEN 'dm' THEN 2 WHEN 'group' THEN 3 WHEN 'post' THEN 4 WHEN 'homepage' THEN 5 ELSE 0 END
        """

    /// A tier number as its name, in SQL.
    private static func v20TierName(_ column: String) -> String {
        "CASE \(column) WHEN 0 THEN 'potential' WHEN 1 THEN 'passerby' WHEN 2 THEN 'liking' WHEN 3 THEN 'true_love' END"
    }

    /// PostgreSQL: the change feed's trigger on `table` fires once a statement and writes the feed's
    /// rows from the rows the statement inserted, in the order it inserted them (`only`: those of
    /// them that are changes), instead of a function call and a lock a row: a batch's tier
    /// transitions and segment changes are tens of thousands of rows. The lock is still taken before
    /// the feed's first insert, so commit order stays the order of `seq`.
    private static func v20Feed(_ name: String, on table: String, kind: String, at: String = "at", data: String, only: String? = nil) -> [String] {
        let rows = "inserted" + (only.map { " WHERE \($0)" } ?? "")
        return [
            "DROP TRIGGER \(name) ON \(table)",
            """
            CREATE OR REPLACE FUNCTION \(name)() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              IF EXISTS (SELECT 1 FROM \(rows)) THEN
                PERFORM pg_advisory_xact_lock(7220016);
                INSERT INTO changes (tenant_id, account_id, kind, open_id, at, data)
                SELECT tenant_id, account_id, \(kind), open_id, \(at), \(data)::text FROM \(rows);
              END IF;
              RETURN NULL;
            END $$
            """,
            "CREATE TRIGGER \(name) AFTER INSERT ON \(table) REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION \(name)()",
        ]
    }

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
            // Live viewers kept in their key's B-tree alone: a batch's viewer adds to its row through
            // one B-tree instead of the key's index and then the table.
            """
            CREATE TABLE live_viewers_v20 (
              tenant_id TEXT NOT NULL,
              account_id TEXT NOT NULL,
              hour INTEGER NOT NULL,
              open_id TEXT NOT NULL,
              audience TEXT NOT NULL,
              minutes INTEGER NOT NULL CHECK (minutes >= 0),
              gifts INTEGER NOT NULL CHECK (gifts >= 0),
              gmv INTEGER NOT NULL,
              PRIMARY KEY (tenant_id, account_id, hour, open_id),
              FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, account_id) ON DELETE CASCADE
            ) WITHOUT ROWID
            """,
            "INSERT INTO live_viewers_v20 SELECT tenant_id, account_id, hour, open_id, audience, minutes, gifts, gmv FROM live_viewers ORDER BY 1, 2, 3, 4",
            "DROP TABLE live_viewers",
            "ALTER TABLE live_viewers_v20 RENAME TO live_viewers",
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
        ]
            + v20Feed("changes_on_tier", on: "tier_transitions", kind: "'tier_changed'",
                      data: "json_build_object('from', \(v20TierName("from_tier")), 'to', \(v20TierName("to_tier")), 'cause', cause)")
            + v20Feed("changes_on_segment", on: "segment_changes", kind: "CASE WHEN entered = 1 THEN 'segment_entered' ELSE 'segment_left' END",
                      data: "json_build_object('segmentId', segment_id, 'cause', cause)")
            + v20Feed("changes_on_lead", on: "leads", kind: "'lead_created'", at: "created_at",
                      data: "json_build_object('leadId', lead_id, 'channel', channel, 'domain', domain)")
            + v20Feed("changes_on_breach", on: "desk_events", kind: "'sla_breached'", data: "json_build_object('agent', agent, 'detail', detail)",
                      only: "kind = 'sla_breached'")
            + v20Feed("changes_on_journey_step", on: "journey_steps", kind: "'journey_step'",
                      data: "json_build_object('journeyId', journey_id, 'step', step, 'kind', kind, 'outcome', outcome)"))
}
