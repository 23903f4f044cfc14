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
        // The seqs grouped by fan in one flat list (counted, then placed): one lookup an event and
        // no list a fan (a list a fan, grown event by event, was most of this).
        var fans: [String: Int] = [:]
        var fanOf: [Int] = []
        var counts: [Int] = []
        fanOf.reserveCapacity(events.count)
        for stored in events {
            let n = fans[stored.event.openId] ?? counts.count
            if n == counts.count {
                fans[stored.event.openId] = n
                counts.append(0)
            }
            counts[n] += 1
            fanOf.append(n)
        }
        var start = [Int](repeating: 0, count: counts.count + 1)
        for n in counts.indices { start[n + 1] = start[n] + counts[n] }
        var placed = start
        var seqs = [Int64](repeating: 0, count: events.count)
        for (i, stored) in events.enumerated() {
            seqs[placed[fanOf[i]]] = stored.seq
            placed[fanOf[i]] += 1
        }
        return fans.sorted { $0.key < $1.key }.map { openId, n in
            var text = DecimalText()
            for k in start[n]..<start[n + 1] {
                if k > start[n] { text.append(",") }
                text.append(seqs[k])
            }
            return Run(openId: openId, firstSeq: seqs[start[n]], seqs: text.text)
        }
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
