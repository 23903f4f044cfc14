import FlywheelDomain
import FlywheelStore
import Foundation

/// What a user without Flywheel would do with the same events: load them into a plain table, then
/// compute per-fan state with SQL alone: intimacy capped per day, counters, GMV, first domain and
/// last active. Timed on the same store in the same run: the rate Flywheel's end to end must beat.
struct PlainSQLBaseline {
    let runner: any SQLRunner
    /// The account's offset from UTC, for its days.
    let utcOffsetSeconds: Int64
    /// Tables of this run, dropped at the end (a PostgreSQL database may be shared).
    private let events = "plain_events_\(ProcessInfo.processInfo.processIdentifier)"
    private let fans = "plain_fans_\(ProcessInfo.processInfo.processIdentifier)"

    init(runner: any SQLRunner, utcOffsetSeconds: Int64) {
        self.runner = runner
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    struct Figures {
        var load: Double
        var derive: Double
        var fans: Int
    }

    func run(_ generated: [FanEvent], chunk: Int) async throws -> Figures {
        try await runner.transaction([.execute(SQLStatement("""
            CREATE TABLE \(events) (open_id TEXT NOT NULL, kind TEXT NOT NULL, occurred_at BIGINT NOT NULL, domain TEXT NOT NULL, amount BIGINT NOT NULL)
            """))])
        let drop: [SQLStep] = [.execute(SQLStatement("DROP TABLE IF EXISTS \(events)")), .execute(SQLStatement("DROP TABLE IF EXISTS \(fans)"))]
        do {
            let figures = try await measure(generated, chunk: chunk)
            try await runner.transaction(drop)
            return figures
        } catch {
            _ = try? await runner.transaction(drop)
            throw error
        }
    }

    private func measure(_ generated: [FanEvent], chunk: Int) async throws -> Figures {
        // Loaded as a client would: multi-row INSERTs, a transaction per chunk.
        var clock = Date()
        let rowsPerStatement = 500
        for start in stride(from: 0, to: generated.count, by: chunk) {
            let slice = generated[start..<min(start + chunk, generated.count)]
            var steps: [SQLStep] = []
            for rows in stride(from: slice.startIndex, to: slice.endIndex, by: rowsPerStatement) {
                let part = slice[rows..<min(rows + rowsPerStatement, slice.endIndex)]
                let values = Array(repeating: "(?, ?, ?, ?, ?)", count: part.count).joined(separator: ", ")
                let binds = part.flatMap { e -> [Cell] in [.text(e.openId), .text(e.kind.rawValue), .int(e.occurredAt), .text(e.domain.rawValue), .int(e.amount)] }
                steps.append(.execute(SQLStatement("INSERT INTO \(events) VALUES \(values)", binds)))
            }
            try await runner.transaction(steps)
        }
        let load = Date().timeIntervalSince(clock)

        clock = Date()
        try await runner.transaction([.execute(SQLStatement(deriveSQL))])
        let derive = Date().timeIntervalSince(clock)
        let count = try await runner.query(SQLStatement("SELECT COUNT(*) AS n FROM \(fans)")).first?.int("n") ?? 0
        return Figures(load: load, derive: derive, fans: Int(count))
    }

    /// One statement: points per fan and day (capped at the levels' first daily cap), summed per
    /// fan, joined with counters, GMV, last activity and the domain of the fan's first event.
    private var deriveSQL: String {
        let sqlite = runner.dialect == .sqlite
        let points = PointTable.standard.rules.sorted { $0.key.rawValue < $1.key.rawValue }.map { kind, rule in
            rule.perAmount > 0
                ? "WHEN '\(kind.rawValue)' THEN \(rule.flat) + \(rule.perAmount) * (amount / \(rule.amountUnit))"
                : "WHEN '\(kind.rawValue)' THEN \(rule.flat)"
        }.joined(separator: " ")
        let cap = LevelTable.standard.dailyCaps[0]
        func count(_ kind: EventKind) -> String { "SUM(CASE WHEN kind = '\(kind.rawValue)' THEN 1 ELSE 0 END) AS \(kind.rawValue)s" }
        let counters = [EventKind.videoView, .like, .comment, .share, .follow, .liveGift, .orderPaid].map(count).joined(separator: ", ")
        let first = sqlite
            // SQLite takes the bare column from the row holding the MIN.
            ? "SELECT open_id, domain, MIN(occurred_at) AS first_at FROM \(events) GROUP BY open_id"
            : "SELECT DISTINCT ON (open_id) open_id, domain FROM \(events) ORDER BY open_id, occurred_at"
        return """
            CREATE TABLE \(fans) AS
            WITH daily AS (
              SELECT open_id, (occurred_at / 1000 + \(utcOffsetSeconds)) / 86400 AS day, SUM(CASE kind \(points) ELSE 0 END) AS points
              FROM \(events) GROUP BY open_id, (occurred_at / 1000 + \(utcOffsetSeconds)) / 86400
            ),
            intimacy AS (SELECT open_id, SUM(\(sqlite ? "MIN" : "LEAST")(points, \(cap))) AS intimacy FROM daily GROUP BY open_id),
            firsts AS (\(first)),
            totals AS (
              SELECT open_id, \(counters),
                SUM(CASE WHEN kind = 'live_watch' THEN amount ELSE 0 END) AS live_minutes,
                SUM(CASE WHEN kind = 'order_paid' THEN amount WHEN kind = 'order_refunded' THEN -amount ELSE 0 END) AS gmv,
                MAX(occurred_at) AS last_active_at
              FROM \(events) GROUP BY open_id
            )
            SELECT t.*, i.intimacy, f.domain AS first_domain FROM totals t JOIN intimacy i ON i.open_id = t.open_id JOIN firsts f ON f.open_id = t.open_id
            """
    }
}
