import Foundation
import FlywheelDomain
import FlywheelStore

/// What the fan-state projection made of a batch: the events it applied and the fans they changed,
/// for the projections after it.
public struct AppliedBatch: Sendable {
    public struct Event: Sendable {
        public var stored: StoredEvent
        /// The day it happened on, in the account's calendar.
        public var day: Int
        /// Whether it brought the fan into the account.
        public var newFan: Bool
    }

    /// Applied events in log order (quarantined ones and operators' acts on unknown fans left out).
    public var events: [Event] = []
    /// The new state of every fan the batch changed, by open_id.
    public var changed: [FanState] = []
    /// The last cause of each changed fan's change: what a segment entry or exit is put down to,
    /// and when it happened (a segment is entered when the fan did what put it there).
    public var causes: [String: (cause: String, seq: Int64, at: Int64)] = [:]
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
        var fans = batch.fans
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
            for (openId, before) in fans {
                var fan = before
                if let t = fan.reevaluate(rules: rules, at: now) { record(t, causeSeq: -Int64(batch.rulesVersion)) }
                for tag in fan.applyTagRules(rules, at: now) {
                    actions.append(FanAction(openId: openId, at: now, action: "tag_added", detail: tag, causeSeq: -Int64(batch.rulesVersion)))
                }
                if fan != before {
                    fans[openId] = fan
                    applied.causes[openId] = ("rules_changed", -Int64(batch.rulesVersion), now)
                }
            }
        }
        var quarantined = batch.unreadable.map { QuarantinedEvent(seq: $0.seq, eventId: $0.eventId, reason: $0.reason, at: now) }
        // Sized up front instead of reallocated as they grow: an applied event an event, and a
        // cause a fan changed (for the fans the batch starts with; new ones grow it).
        applied.events.reserveCapacity(batch.events.count)
        applied.causes.reserveCapacity(min(batch.events.count, fans.count))
        for stored in batch.events {
            let event = stored.event
            // Stored before the edges checked it, or by another tool: kept out of the state, shown to the operator.
            do { try event.check() } catch {
                quarantined.append(QuarantinedEvent(seq: stored.seq, eventId: event.id, reason: error.description, at: now))
                continue
            }
            let day = calendar.day(ofMillis: event.occurredAt)
            // The fan is found once and changed where it lies in the dictionary: copying it out and
            // back, and looking it up again for each step, was most of this loop's time.
            var index = fans.index(forKey: event.openId)
            let newFan = index == nil
            if newFan {
                // An operator acts on fans that exist; one naming another open_id changes nothing.
                if event.kind.isOperatorAction { continue }
                fans[event.openId] = FanState(firstSeenThrough: event)
                index = fans.index(forKey: event.openId)
            }
            guard let index else { continue }
            let transition = fans.values[index].apply(event, rules: rules, day: day)
            let tags = fans.values[index].applyTagRules(rules, at: event.occurredAt)
            if newFan {
                record(TierTransition(openId: event.openId, from: nil, to: fans.values[index].tier, at: event.occurredAt, cause: event.kind.rawValue),
                       causeSeq: stored.seq)
            } else if let transition {
                record(transition, causeSeq: stored.seq)
            }
            for tag in tags {
                actions.append(FanAction(openId: event.openId, at: event.occurredAt, action: "tag_added", detail: tag, causeSeq: stored.seq))
            }
            applied.events.append(AppliedBatch.Event(stored: stored, day: day, newFan: newFan))
            applied.causes[event.openId] = (event.kind.rawValue, stored.seq, min(event.occurredAt, now))
        }
        // By open_id, the fan rows' key: each row then lands beside the one before it in the B-tree.
        applied.changed = applied.causes.keys.sorted().compactMap { fans[$0] }
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
    struct Viewer: Hashable { var hour: Int64; var openId: String }
    struct Visit: Hashable { var day: Int; var channel: Channel; var domain: SourceDomain }

    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        var write = ReachWrite()
        var days: [GroupDay: (joins: Int, leaves: Int, messages: Int)] = [:]
        var writers: [Member: (messages: Int, at: Int64)] = [:]
        var viewers: [Viewer: (audience: LiveAudience, minutes: Int64, gifts: Int64, gmv: Int64)] = [:]
        var visits: [Visit: Int] = [:]
        let calendar = batch.account.calendar
        // Where each changed fan is in `applied.changed`, made only when the batch has live events: most batches have none.
        var positions: [String: Int]?
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
            if positions == nil { positions = Dictionary(applied.changed.indices.map { (applied.changed[$0].openId, $0) }) { a, _ in a } }
            guard let position = positions?[event.openId] else { continue }
            let key = Viewer(hour: event.occurredAt / 3_600_000, openId: event.openId)
            let dayStart = dayStarts[e.day] ?? calendar.startOfDay(e.day)
            dayStarts[e.day] = dayStart
            // Read where it lies, not copied out for every live event.
            var v = viewers[key] ?? (LiveAudience.of(applied.changed[position], dayStart: dayStart), 0, 0, 0)
            switch event.kind {
            case .liveWatch: v.minutes += event.amount
            case .liveGift: v.gifts += event.amount
            default: v.gmv += event.amount
            }
            viewers[key] = v
        }
        write.groupDays = days.map { ($0.key.group, $0.key.day, $0.value.joins, $0.value.leaves, $0.value.messages) }
        write.writers = writers.map { ($0.key.group, $0.key.openId, $0.value.messages, $0.value.at) }
        write.viewers = viewers.map { ($0.key.hour, $0.key.openId, $0.value.audience, $0.value.minutes, $0.value.gifts, $0.value.gmv) }
        write.visits = visits.map { ($0.key.day, $0.key.channel, $0.key.domain, $0.value) }
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
    struct Touch: Hashable { var openId: String; var day: Int; var touchpoint: SalesTouchpoint }

    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        var write = OrderWrite()
        let decoder = JSONDecoder()
        var touches: [Touch: (first: Int64, last: Int64)] = [:]
        for e in applied.events {
            let event = e.stored.event
            if let touchpoint = SalesTouchpoint.of(event) {
                let key = Touch(openId: event.openId, day: e.day, touchpoint: touchpoint)
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
        // In key order: each insert then lands beside the one before it in the B-tree.
        write.touches = touches.map { ($0.key.openId, $0.key.day, $0.key.touchpoint, $0.value.first, $0.value.last) }
            .sorted { ($0.openId, $0.day, $0.touchpoint.rawValue) < ($1.openId, $1.day, $1.touchpoint.rawValue) }
        return write.isEmpty ? [] : [write]
    }
}
