// Frozen once it lands: never edit it after that; add a new one.
extension Migration {
    static let v21 = Migration(
        version: "v21 room on PostgreSQL's fan pages for their next versions",
        // SQLite rewrites a row in place.
        sqlite: [],
        postgres: [
            // Every projection batch rewrites the row of each fan it touches (a bulk batch nearly
            // all of an account's fans). Half of each page left free lets the new version go beside
            // the old one without a new entry in the key's index (a heap-only update), and the old
            // versions are pruned as pages are read, not left to vacuum: a million-event ingest left
            // 143,510 dead rows and a 90 MB table, against 651 and 48 MB with the room. New pages
            // keep the room; a row on a page filled before moves to one with room when it is updated.
            "ALTER TABLE fans SET (fillfactor = 50)",
        ])
}
