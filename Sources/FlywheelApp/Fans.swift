import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// The fans context: finding fans and telling one fan's story.
public struct Fans: Sendable {
    let flywheel: Flywheel
    var store: any Store { flywheel.env.store }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// `q` as a predicate: the fan whose open_id it is, fans whose nickname contains it, or whose
    /// phone (from lead cards) it is.
    public static func search(_ q: String) -> FanPredicate {
        var terms: [FanPredicate] = [.compare(field: "open_id", op: .eq, value: .text(q)),
                                     .matches(field: "nickname", pattern: NSRegularExpression.escapedPattern(for: q))]
        let digits = q.filter(\.isNumber)
        if digits.count >= 5 { terms.append(.compare(field: "phone", op: .eq, value: .text(digits))) }
        return .or(terms)
    }

    /// One entry of a fan's timeline before it is put in words: the API says it in codes, the
    /// console in the reader's language.
    public enum TimelineItem: Sendable {
        case event(StoredEvent)
        case tierChanged(at: Int64, from: Tier?, to: Tier, cause: String)
        case segment(at: Int64, entered: Bool, name: String, cause: String)
        /// What a rule did (today `tag_added`, `detail` the tag).
        case action(at: Int64, action: String, detail: String)
        /// A step of a journey the fan is on (step 0: the entry, `outcome` the fan's arm).
        case journey(at: Int64, name: String, step: Int, kind: String, outcome: String)
    }

    /// The deepest a timeline pages: entries beyond it are in the event log and the API's exports.
    public static let timelineDepth = 5_000

    /// A page of the timeline: `limit` entries after the first `skipping`, and whether more follow
    /// (within `timelineDepth`).
    public func timeline(of openId: String, in account: Account, skipping: Int, limit: Int, by caller: Principal) async throws -> (items: [TimelineItem], more: Bool) {
        guard (0..<Self.timelineDepth).contains(skipping) else {
            throw UseCaseError.invalid(field: "cursor", "pages reach \(Self.timelineDepth) entries back; export the fan's events for more")
        }
        let wanted = min(skipping + limit, Self.timelineDepth)
        let all = try await timeline(of: openId, in: account, limit: wanted + 1, by: caller)
        return (Array(all.dropFirst(skipping).prefix(wanted - skipping)), all.count > wanted && wanted < Self.timelineDepth)
    }

    /// Newest first: the fan's events, operators' tags and notes, and what the system did (tier
    /// changes, segment entries and exits, rule tags, journey steps).
    func timeline(of openId: String, in account: Account, limit: Int, by caller: Principal) async throws -> [TimelineItem] {
        try caller.authorize(.readFan)
        let names = Dictionary(try await store.segments(of: account).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        // What the system did comes just above the event that caused it (same time, newer).
        let system = Int64.max
        var entries: [(at: Int64, order: Int64, item: TimelineItem)] = []
        for stored in try await store.timeline(of: account, openId: openId, limit: limit) {
            entries.append((stored.event.occurredAt, stored.seq, .event(stored)))
        }
        for t in try await store.transitions(of: account, openId: openId, limit: limit) {
            entries.append((t.at, system, .tierChanged(at: t.at, from: t.from, to: t.to, cause: t.cause)))
        }
        for c in try await store.segmentChanges(of: account, openId: openId, limit: limit) {
            entries.append((c.at, system, .segment(at: c.at, entered: c.entered, name: names[c.segmentId] ?? c.segmentId, cause: c.cause)))
        }
        for a in try await store.actions(of: account, openId: openId, limit: limit) {
            entries.append((a.at, system, .action(at: a.at, action: a.action, detail: a.detail)))
        }
        let steps = try await store.journeySteps(of: account, openId: openId, limit: limit)
        if !steps.isEmpty {
            let journeys = Dictionary(try await store.journeys(tenantId: account.tenantId, accountIds: [account.id]).map { ($0.id, $0.name) }) { a, _ in a }
            for s in steps {
                entries.append((s.at, system, .journey(at: s.at, name: journeys[s.journeyId] ?? s.journeyId, step: s.step, kind: s.kind, outcome: s.outcome)))
            }
        }
        entries.sort { ($0.at, $0.order) > ($1.at, $1.order) }
        return entries.prefix(limit).map(\.item)
    }
}
