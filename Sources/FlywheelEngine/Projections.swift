import Foundation
import FlywheelDomain
import FlywheelStore

/// What the fan-state projection made of a batch: the events it applied and the fans they changed,
/// for the projections after it.
public struct AppliedBatch: Sendable {
    /// Why a fan changed, and when: what a segment entry or exit is put down to (a segment is
    /// entered when the fan did what put it there).
    public typealias Cause = (cause: String, seq: Int64, at: Int64)

    public struct Event: Sendable {
        public var stored: StoredEvent
        /// The day it happened on, in the account's calendar.
        public var day: Int
        /// Whether it brought the fan into the account.
        public var newFan: Bool
        /// Where its fan is in `changed`: every applied event changes its fan.
        public var fan: Int
    }

    /// Applied events in log order (quarantined ones and operators' acts on unknown fans left out).
    public var events: [Event] = []
    /// The new state of every fan the batch changed, by open_id.
    public var changed: [FanState] = []
    /// The last cause of each changed fan's change, in the order of `changed`.
    public var causes: [Cause] = []
    /// The fan projection's own writes: fans, transitions, auto-tags, quarantine.
    public var writes: [any ProjectionWrite] = []
}

/// A consequence of events beyond the fans' own state: a pure function from a batch (and what the
/// fan projection made of it) to typed writes, committed with the checkpoint.
public protocol Projection: Sendable {
    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite]
}

/// Fan state, tiers, levels and auto-tags: every other projection reads what this one decides.
/// Events that break the bounds are quarantined here, before anything counts them.
enum FanStateProjection {
    static func apply(_ batch: ProjectionBatch, now: Int64) -> AppliedBatch {
        let calendar = batch.account.calendar
        let rules = batch.rules.compiled(calendar: calendar)
        // The batch's fans by number, in the order the batch first names them: an event finds its
        // fan by open_id once, and everything after goes by number (a second lookup by open_id an
        // event, for its cause, was about a sixth of this loop's time).
        var number: [String: Int] = [:]
        var fans: [FanState] = []
        var causes: [AppliedBatch.Cause?] = []
        number.reserveCapacity(batch.fans.count)
        fans.reserveCapacity(batch.fans.count)
        causes.reserveCapacity(batch.fans.count)
        var applied = AppliedBatch()
        var actions: [FanAction] = []
        var transitions: [(transition: TierTransition, causeSeq: Int64, day: Int)] = []
        var flows: [TierFlow: Int] = [:]

        func record(_ t: TierTransition, causeSeq: Int64) {
            let day = calendar.day(ofMillis: t.at)
            transitions.append((t, causeSeq, day))
            flows[TierFlow(day: day, from: t.from, to: t.to), default: 0] += 1
        }

        if batch.rulesChanged {
            for (openId, before) in batch.fans {
                var fan = before
                if let t = fan.reevaluate(rules: rules, at: now) { record(t, causeSeq: -Int64(batch.rulesVersion)) }
                for tag in fan.applyTagRules(rules, at: now) {
                    actions.append(FanAction(openId: openId, at: now, action: "tag_added", detail: tag, causeSeq: -Int64(batch.rulesVersion)))
                }
                number[openId] = fans.count
                causes.append(fan != before ? ("rules_changed", -Int64(batch.rulesVersion), now) : nil)
                fans.append(fan)
            }
        }
        var quarantined = batch.unreadable.map { QuarantinedEvent(seq: $0.seq, eventId: $0.eventId, reason: $0.reason, at: now) }
        applied.events.reserveCapacity(batch.events.count)
        for stored in batch.events {
            let event = stored.event
            // Stored before the edges checked it, or by another tool: kept out of the state, shown to the operator.
            do { try event.check() } catch {
                quarantined.append(QuarantinedEvent(seq: stored.seq, eventId: event.id, reason: error.description, at: now))
                continue
            }
            let day = calendar.day(ofMillis: event.occurredAt)
            var newFan = false
            let n: Int
            if let known = number[event.openId] {
                n = known
            } else {
                let before = batch.fans[event.openId]
                // An operator acts on fans that exist; one naming another open_id changes nothing.
                if before == nil, event.kind.isOperatorAction { continue }
                newFan = before == nil
                n = fans.count
                number[event.openId] = n
                fans.append(before ?? FanState(firstSeenThrough: event))
                causes.append(nil)
            }
            let transition = fans[n].apply(event, rules: rules, day: day)
            let tags = fans[n].applyTagRules(rules, at: event.occurredAt)
            if newFan {
                record(TierTransition(openId: event.openId, from: nil, to: fans[n].tier, at: event.occurredAt, cause: event.kind.rawValue),
                       causeSeq: stored.seq)
            } else if let transition {
                record(transition, causeSeq: stored.seq)
            }
            for tag in tags {
                actions.append(FanAction(openId: event.openId, at: event.occurredAt, action: "tag_added", detail: tag, causeSeq: stored.seq))
            }
            applied.events.append(AppliedBatch.Event(stored: stored, day: day, newFan: newFan, fan: n))
            causes[n] = (event.kind.rawValue, stored.seq, min(event.occurredAt, now))
        }
        // By open_id, the fan rows' key: each row then lands beside the one before it in the B-tree.
        // Compared by open_id alone: comparing `fans[$0]` copied two whole states a comparison.
        let openIds = fans.map(\.openId)
        let order = causes.indices.filter { causes[$0] != nil }.sorted { openIds[$0] < openIds[$1] }
        var place = [Int](repeating: 0, count: fans.count)
        for (i, n) in order.enumerated() { place[n] = i }
        applied.changed = order.map { fans[$0] }
        applied.causes = order.compactMap { causes[$0] }
        for i in applied.events.indices { applied.events[i].fan = place[applied.events[i].fan] }
        applied.writes = [FanStatesWrite(fans: applied.changed), TierTransitionsWrite(transitions: transitions, flows: flows),
                          FanActionsWrite(actions: actions), QuarantineWrite(events: quarantined)]
        return applied
    }
}

/// Events and new fans per day, domain and channel: what the fans did, not what operators did.
struct ActivityProjection: Projection {
    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        var cells: [ActivityCell: ActivityCount] = [:]
        for e in applied.events where !e.stored.event.kind.isOperatorAction {
            let cell = ActivityCell(day: e.day, domain: e.stored.event.domain, channel: e.stored.event.channel)
            cells[cell, default: ActivityCount()].events += 1
            if e.newFan { cells[cell, default: ActivityCount()].newFans += 1 }
        }
        return [ActivityWrite(cells: cells)]
    }
}

/// The popularity value's daily inputs: views, live minutes watched, interactions, follows and
/// unfollows (docs/operate.md).
struct PopularityProjection: Projection {
    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        var write = PopularityWrite()
        for e in applied.events {
            let event = e.stored.event
            switch event.kind {
            case .videoView: write.days[e.day, default: (0, 0, 0, 0, 0)].views += 1
            case .liveWatch: write.days[e.day, default: (0, 0, 0, 0, 0)].watchMinutes += Int(clamping: event.amount)
            case .like, .comment, .share, .liveGift, .liveShare, .dmReceived, .groupMessage: write.days[e.day, default: (0, 0, 0, 0, 0)].interactions += 1
            case .follow: write.days[e.day, default: (0, 0, 0, 0, 0)].follows += 1
            case .unfollow: write.days[e.day, default: (0, 0, 0, 0, 0)].unfollows += 1
            default: continue
            }
        }
        return write.days.isEmpty ? [] : [write]
    }
}

/// Entries and exits of the account's ready segments for every fan the batch changed.
struct SegmentProjection: Projection {
    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        [SegmentChangesWrite(changes: Projector.segmentChanges(batch.segments, memberships: batch.memberships, fans: applied.changed,
                                                               causes: applied.causes, otherwise: ("rules_changed", -Int64(batch.rulesVersion), now),
                                                               calendar: batch.account.calendar, now: now))]
    }
}

/// Fans' DMs and the account's own messages from elsewhere, into their threads, queued for the desk.
struct DeskProjection: Projection {
    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        let messages = applied.events.compactMap { e in
            DeskMessage(e.stored.event, accountId: batch.account.id).map { PendingDeskMessage(seq: e.stored.seq, message: $0) }
        }
        return messages.isEmpty ? [] : [DeskInboxWrite(messages: messages)]
    }
}

/// Lead cards submitted (in DMs, in groups, on the homepage, or synced) into leads, one per phone
/// number in the enterprise.
struct LeadProjection: Projection {
    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        let leads = applied.events.filter { $0.stored.event.kind == .leadSubmitted }.map { Lead(submitted: $0.stored.event, accountId: batch.account.id) }
        return leads.isEmpty ? [] : [LeadInboxWrite(leads: leads)]
    }
}

/// Groups' applications, joins, leaves and messages, and what fans did after being reached
/// (opened or clicked a post, ordered, claimed a coupon, unfollowed): measured against their touches.
struct ReachProjection: Projection {
    struct GroupDay: Hashable { var group: String; var day: Int }
    struct Member: Hashable { var group: String; var openId: String }
    struct Viewer: Hashable { var hour: Int64; var fan: Int }
    struct Visit: Hashable { var day: Int; var channel: Channel; var domain: SourceDomain }

    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        var write = ReachWrite()
        var days: [GroupDay: (joins: Int, leaves: Int, messages: Int)] = [:]
        var writers: [Member: (messages: Int, at: Int64)] = [:]
        var viewers: [Viewer: (audience: LiveAudience, minutes: Int64, gifts: Int64, gmv: Int64)] = [:]
        var visits: [Visit: Int] = [:]
        let calendar = batch.account.calendar
        var dayStarts: [Int: Int64] = [:]
        for e in applied.events {
            let event = e.stored.event
            switch event.kind {
            case .groupApplied:
                guard let group = event.ref, let applyId = event.attributes["apply_id"] else { continue }
                write.applications.append(JoinApplication(applyId: applyId, accountId: batch.account.id, platformGroupId: group, openId: event.openId,
                                                          appliedAt: event.occurredAt))
            case .groupJoin, .groupLeave, .groupMessage:
                guard let group = event.ref else { continue }
                let key = GroupDay(group: group, day: e.day)
                var c = days[key] ?? (0, 0, 0)
                switch event.kind {
                case .groupJoin: c.joins += 1
                case .groupLeave: c.leaves += 1
                default:
                    c.messages += 1
                    let member = Member(group: group, openId: event.openId)
                    let seen = writers[member] ?? (0, 0)
                    writers[member] = (seen.messages + 1, max(seen.at, event.occurredAt))
                }
                days[key] = c
            case .postOpened, .postClicked:
                guard let post = event.ref else { continue }
                write.postActions.append((post, event.openId, event.occurredAt, event.kind == .postClicked))
            case .unfollow:
                write.unfollows.append((event.openId, event.occurredAt))
            case .homepageVisit:
                visits[Visit(day: e.day, channel: event.channel, domain: event.domain), default: 0] += 1
            default:
                break
            }
            if event.kind == .orderPaid || event.kind == .couponClaimed || event.kind == .liveBooked {
                write.conversions.append((event.openId, event.occurredAt, event.kind == .orderPaid ? event.amount : 0))
                if event.kind == .liveBooked, let live = event.ref { write.bookings.append((live, event.openId, event.occurredAt)) }
            }
            // Watching, giving and buying in a live room count towards the live of that hour.
            guard event.kind == .liveWatch || event.kind == .liveGift || (event.kind == .orderPaid && (event.channel == .liveFeed || event.channel == .liveSquare)) else {
                continue
            }
            let key = Viewer(hour: event.occurredAt / 3_600_000, fan: e.fan)
            let dayStart = dayStarts[e.day] ?? calendar.startOfDay(e.day)
            dayStarts[e.day] = dayStart
            // Read where it lies, not copied out for every live event.
            var v = viewers[key] ?? (LiveAudience.of(applied.changed[e.fan], dayStart: dayStart), 0, 0, 0)
            switch event.kind {
            case .liveWatch: v.minutes += event.amount
            case .liveGift: v.gifts += event.amount
            default: v.gmv += event.amount
            }
            viewers[key] = v
        }
        // In each table's key order, so each row lands beside the one before it: in the order the
        // dictionaries keep, the live viewers' upserts were twice as slow (BENCHMARKS.md). A fan's
        // number is its place in `changed`, which is by open_id.
        write.groupDays = days.sorted { ($0.key.group, $0.key.day) < ($1.key.group, $1.key.day) }
            .map { ($0.key.group, $0.key.day, $0.value.joins, $0.value.leaves, $0.value.messages) }
        write.writers = writers.sorted { ($0.key.group, $0.key.openId) < ($1.key.group, $1.key.openId) }
            .map { ($0.key.group, $0.key.openId, $0.value.messages, $0.value.at) }
        write.viewers = viewers.sorted { ($0.key.hour, $0.key.fan) < ($1.key.hour, $1.key.fan) }
            .map { ($0.key.hour, applied.changed[$0.key.fan].openId, $0.value.audience, $0.value.minutes, $0.value.gifts, $0.value.gmv) }
        write.visits = visits.sorted { ($0.key.day, $0.key.channel.rawValue, $0.key.domain.rawValue) < ($1.key.day, $1.key.channel.rawValue, $1.key.domain.rawValue) }
            .map { ($0.key.day, $0.key.channel, $0.key.domain, $0.value) }
        return write.isEmpty ? [] : [write]
    }
}

/// Coupons the platform reports claimed and redeemed, recorded against the account's coupons.
struct CouponProjection: Projection {
    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        var write = CouponWrite()
        for e in applied.events {
            let event = e.stored.event
            switch event.kind {
            case .couponClaimed:
                guard let activity = event.attributes["activity_id"] else { continue }
                write.claims.append(("pf:\(event.id)", activity, event.openId, event.occurredAt))
            case .couponRedeemed:
                write.redemptions.append((event.attributes["activity_id"], event.openId, event.occurredAt))
            default:
                continue
            }
        }
        return write.isEmpty ? [] : [write]
    }
}

/// Orders from their events: a payment is the order (its lines, source and coupon in the event's
/// attributes); each refund is kept by its event id, so the order's refunded amount is their sum.
/// And each fan's touches, one a day and touchpoint, that orders are credited to.
struct OrderProjection: Projection {
    struct Touch: Hashable { var fan: Int; var day: Int; var touchpoint: SalesTouchpoint }

    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        var write = OrderWrite()
        let decoder = JSONDecoder()
        var touches: [Touch: (first: Int64, last: Int64)] = [:]
        for e in applied.events {
            let event = e.stored.event
            if let touchpoint = SalesTouchpoint.of(event) {
                let key = Touch(fan: e.fan, day: e.day, touchpoint: touchpoint)
                let seen = touches[key]
                touches[key] = (min(seen?.first ?? .max, event.occurredAt), max(seen?.last ?? .min, event.occurredAt))
                continue
            }
            guard let orderId = event.ref else { continue }
            switch event.kind {
            case .orderPaid:
                let lines = event.attributes[Order.linesAttribute].flatMap { try? decoder.decode([OrderLine].self, from: Data($0.utf8)) } ?? []
                write.paid.append(Order(id: orderId, accountId: batch.account.id, openId: event.openId,
                                        source: event.attributes[Order.sourceAttribute].flatMap(OrderSource.init) ?? .sync, channel: event.channel,
                                        amountFen: event.amount, couponId: event.attributes[Order.couponAttribute], lines: lines, paidAt: event.occurredAt))
            case .orderRefunded:
                write.refunds.append((event.id, orderId, event.amount, event.occurredAt))
            default:
                continue
            }
        }
        // In key order (`changed` is in open_id order): each insert then lands beside the one before it in the B-tree.
        let number = EventCodes.touchpoints.number
        let touchWrite = FanTouchesWrite(touches: touches.sorted { ($0.key.fan, $0.key.day, number($0.key.touchpoint)) < ($1.key.fan, $1.key.day, number($1.key.touchpoint)) }
            .map { (applied.changed[$0.key.fan].openId, $0.key.day, $0.key.touchpoint, $0.value.first, $0.value.last) })
        return (write.isEmpty ? [] : [write]) + (touchWrite.touches.isEmpty ? [] : [touchWrite])
    }
}
