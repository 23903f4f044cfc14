import Logging
import PostgresNIO
import Synchronization

/// Fresh tables grow faster than autovacuum analyses them (once a minute at best). Until it
/// does, PostgreSQL plans a lookup of a few event ids or open_ids as a walk over the whole
/// account's index, so every delivery gets slower as the log grows: the soak's p50 climbed from
/// 18 ms to 288 ms over three minutes, and stayed at 12–14 ms with ANALYZE every 10 s. The store
/// therefore analyses the tables that grow with events itself, each time the rows it appended
/// have doubled since the last time.
final class PlannerStatistics: Sendable {
    static let tables = "events, fan_event_runs, fans, webhook_deliveries, tier_transitions, segment_members"

    private struct State {
        var appended = 0
        var next = 5_000
        var running = false
    }

    private let state = Mutex(State())

    /// Counts appended rows; true when the tables are due to be analysed (the caller does it).
    func appended(_ rows: Int) -> Bool {
        state.withLock { state in
            state.appended += rows
            guard state.appended >= state.next, !state.running else { return false }
            state.running = true
            state.next = state.appended * 2
            return true
        }
    }

    func analysed() { state.withLock { $0.running = false } }
}

extension PostgresStore {
    /// Analyses the growing tables in the background when they are due; never holds up the append.
    func keepStatistics(after rows: Int) {
        guard rows > 0, statistics.appended(rows) else { return }
        Task { [client, sql, statistics] in
            defer { statistics.analysed() }
            do {
                try await client.withConnection { db in _ = try await sql.run(db, "ANALYZE \(PlannerStatistics.tables)") }
            } catch {
                sql.logger.warning("could not analyse the growing tables; PostgreSQL's own autovacuum will", metadata: ["error": "\(error)"])
            }
        }
    }
}
