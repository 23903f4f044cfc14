import FlywheelDomain

/// A fan's events in the log, found through runs the projector writes with each batch: one row
/// per fan and batch listing the seqs of the fan's events in it (`fan_event_runs`), instead of an
/// index entry per event put in at a random place as events arrive. One form for both stores.
public enum FanEventRuns {
    public struct Run: Sendable, Equatable {
        public var openId: String
        public var firstSeq: Int64
        /// The seqs, comma-separated.
        public var seqs: String
    }

    /// The batch's runs: each fan's seqs, in log order; the runs in key order (by open_id).
    public static func runs(of events: [StoredEvent]) -> [Run] {
        var seqs: [String: [Int64]] = [:]
        for stored in events { seqs[stored.event.openId, default: []].append(stored.seq) }
        return seqs.map { Run(openId: $0.key, firstSeq: $0.value[0], seqs: DecimalText.list($0.value)) }.sorted { $0.openId < $1.openId }
    }

    /// The newest `limit` seqs of runs read newest first.
    public static func latest(_ runs: some Sequence<String>, limit: Int) -> [Int64] {
        var seqs: [Int64] = []
        for run in runs where seqs.count < limit {
            seqs += run.split(separator: ",").compactMap { Int64($0) }.sorted(by: >)
        }
        return Array(seqs.prefix(limit))
    }
}
