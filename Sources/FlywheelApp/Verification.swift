import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// `flywheel verify`: every fan's state and the account's figures recomputed from the raw event
/// log alone, by a second implementation written from the documents (docs/rules.md,
/// docs/events.md, docs/journeys.md) that shares no code with the projector, and compared with
/// what the store holds. Rules are data both read; the folding of events is written twice.
public struct Verification: Sendable {
    let flywheel: Flywheel
    var store: any Store { flywheel.env.store }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// One comparison: how many values were compared and the ones that differ.
    public struct Check: Sendable {
        public var name: String
        public var compared: Int
        public var mismatches: [String]
    }

    public struct Report: Sendable {
        public var account: Account
        public var events: Int
        public var fans: Int
        public var checks: [Check]
        public var mismatches: Int { checks.map(\.mismatches.count).reduce(0, +) }
    }

    /// The account's log, fans and figures, once the projector has caught up (`behind` otherwise:
    /// comparing a state mid-way proves nothing).
    public func verify(_ account: Account) async throws -> Report {
        let position = try await store.projectionPosition(of: account)
        let quarantined = Set(try await store.quarantinedEvents(of: account, limit: 1_000_000).map(\.seq))
        let rules = try await store.rules(of: account)
        var recount = Recount(rules: rules.rules, calendar: account.calendar)
        var read = 0
        var after: Int64 = 0
        while true {
            let page = try await store.loggedEvents(of: account, after: after, limit: 5_000)
            guard let last = page.last else { break }
            for stored in page where stored.seq <= position.lastSeq && !quarantined.contains(stored.seq) {
                recount.add(stored.event)
                read += 1
            }
            after = last.seq
        }
        var checks: [Check] = []
        let stored = try await allFans(account)
        checks.append(compareFans(recount.fans, stored))
        checks.append(compareTiers(stored, rules: rules.rules, calendar: account.calendar))
        checks.append(try await compareTransitions(account, stored))
        checks.append(try await compareTierCounts(account, stored))
        checks.append(try await compareOrders(account, recount))
        checks += try await compareExperiments(account, log: recount)
        return Report(account: account, events: read, fans: stored.count, checks: checks)
    }

    func allFans(_ account: Account) async throws -> [String: FanState] {
        var all: [String: FanState] = [:]
        var cursor: String?
        repeat {
            let page = try await store.fans(of: account, matching: nil, now: flywheel.env.now(), cursor: cursor, limit: 1_000)
            for fan in page.items { all[fan.openId] = fan }
            cursor = page.nextCursor
        } while cursor != nil
        return all
    }

    func compareFans(_ recounted: [String: Recount.Fan], _ stored: [String: FanState]) -> Check {
        var problems: [String] = []
        for id in Set(recounted.keys).symmetricDifference(stored.keys).sorted() {
            problems.append("\(id): \(recounted[id] == nil ? "stored, but has no event in the log" : "in the log, but not stored")")
        }
        var compared = 0
        for (id, r) in recounted.sorted(by: { $0.key < $1.key }) {
            guard let s = stored[id] else { continue }
            let pairs: [(String, String, String)] = [
                ("first seen", "\(r.firstSeenAt)", "\(s.firstSeenAt)"), ("first domain", r.firstDomain.rawValue, s.firstDomain.rawValue),
                ("first channel", r.firstChannel.rawValue, s.firstChannel.rawValue), ("last active", "\(r.lastActiveAt)", "\(s.lastActiveAt)"),
                ("following", "\(r.following)", "\(s.following)"), ("gmv", "\(r.gmv)", "\(s.gmv)"),
                ("orders paid", "\(r.count[.orderPaid] ?? 0)", "\(s.counters.ordersPaid)"), ("orders refunded", "\(r.count[.orderRefunded] ?? 0)", "\(s.counters.ordersRefunded)"),
                ("follows", "\(r.count[.follow] ?? 0)", "\(s.counters.follows)"), ("unfollows", "\(r.count[.unfollow] ?? 0)", "\(s.counters.unfollows)"),
                ("likes", "\(r.count[.like] ?? 0)", "\(s.counters.likes)"), ("comments", "\(r.count[.comment] ?? 0)", "\(s.counters.comments)"),
                ("DMs received", "\(r.count[.dmReceived] ?? 0)", "\(s.counters.dmsReceived)"), ("leads", "\(r.count[.leadSubmitted] ?? 0)", "\(s.counters.leads)"),
                ("intimacy", "\(r.points)", "\(s.intimacy)"), ("level", "\(r.level)", "\(s.level)"),
            ]
            for (field, want, have) in pairs {
                compared += 1
                if want != have { problems.append("\(id) \(field): the log gives \(want), the store holds \(have)") }
            }
        }
        return Check(name: "fan state", compared: compared, mismatches: problems)
    }

    /// Each stored fan's tier is the one its account's tier rules give for its stored state.
    func compareTiers(_ stored: [String: FanState], rules: AccountRules, calendar: AccountCalendar) -> Check {
        let ordered: [(Tier, CompiledPredicate)] = [(.trueLove, rules.tiers.trueLove.compile(calendar: calendar)),
                                                   (.liking, rules.tiers.liking.compile(calendar: calendar)),
                                                   (.passerby, rules.tiers.passerby.compile(calendar: calendar))]
        let now = flywheel.env.now()
        var problems: [String] = []
        for (id, fan) in stored.sorted(by: { $0.key < $1.key }) {
            let tier = ordered.first { $0.1.matches(fan, now: now) }?.0 ?? .potential
            if tier != fan.tier { problems.append("\(id) tier: the rules give \(tier.name), the store holds \(fan.tier.name)") }
        }
        return Check(name: "tiers by the rules", compared: stored.count, mismatches: problems)
    }

    /// Each fan's tier is in its recorded history: some transition led to it. (Not "the latest by
    /// time": a late event's transition is dated by the event, before transitions applied earlier.)
    func compareTransitions(_ account: Account, _ stored: [String: FanState]) async throws -> Check {
        var problems: [String] = []
        for (id, fan) in stored.sorted(by: { $0.key < $1.key }) {
            let history = try await store.transitions(of: account, openId: id, limit: 1_000)
            if !history.contains(where: { $0.to == fan.tier }) { problems.append("\(id) transitions: none leads to \(fan.tier.name), where the fan is") }
        }
        return Check(name: "tier transitions", compared: stored.count, mismatches: problems)
    }

    /// The console's and the API's tier counts are the fans' tiers counted.
    func compareTierCounts(_ account: Account, _ stored: [String: FanState]) async throws -> Check {
        let reported = try await store.tierCounts(of: account)
        var counted: [Tier: Int] = [:]
        for fan in stored.values { counted[fan.tier, default: 0] += 1 }
        let problems = Tier.allCases.compactMap { tier in
            (reported[tier] ?? 0) == (counted[tier] ?? 0) ? nil : "\(tier.name): reported \(reported[tier] ?? 0), counted \(counted[tier] ?? 0)"
        }
        return Check(name: "tier counts", compared: Tier.allCases.count, mismatches: problems)
    }

    /// The orders the reports count: one per order id paid in the log, refunds by their ids.
    func compareOrders(_ account: Account, _ log: Recount) async throws -> Check {
        var stored: [Order] = []
        var before: (at: Int64, id: String)?
        while true {
            let page = try await store.orders(of: account, openId: nil, from: nil, to: nil, before: before, limit: 1_000)
            stored += page
            guard let last = page.last, page.count == 1_000 else { break }
            before = (last.paidAt, last.id)
        }
        var storedRefunds: Int64 = 0
        for chunk in stride(from: 0, to: stored.count, by: 500) {
            let ids = stored[chunk..<min(chunk + 500, stored.count)].map(\.id)
            storedRefunds += try await store.refunds(of: account, orderIds: ids).values.flatMap(\.values).reduce(0, +)
        }
        let paid = log.orders.values.map(\.amount).reduce(0, +), storedPaid = stored.map(\.amountFen).reduce(0, +)
        // A refund counts against an order the log paid (the reports read refunds by order).
        let refunded = log.refunds.values.filter { log.orders[$0.orderId] != nil }.map(\.amount).reduce(0, +)
        var problems: [String] = []
        if stored.count != log.orders.count { problems.append("orders: the log has \(log.orders.count), the store \(stored.count)") }
        if storedPaid != paid { problems.append("GMV paid: the log gives \(paid) fen, the store \(storedPaid)") }
        if storedRefunds != refunded { problems.append("refunded: the log gives \(refunded) fen, the store \(storedRefunds)") }
        return Check(name: "orders and GMV", compared: 3, mismatches: problems)
    }

    /// An event-triggered journey's experiment: who entered on which arm (the first trigger after
    /// launch, the arm by the documented hash, written again here) and what each arm bought in
    /// the 30 days after, against the report.
    func compareExperiments(_ account: Account, log: Recount) async throws -> [Check] {
        var checks: [Check] = []
        for journey in try await store.journeys(tenantId: account.tenantId, accountIds: [account.id]) {
            guard let launched = journey.launchedAt, journey.trigger.kind == .event else { continue }
            var arms: [ExperimentArm: ArmOutcome] = [:]
            for (openId, entered) in log.firstEvents(of: journey.trigger.value, from: launched) {
                let arm = Self.arm(openId, journey: journey.id, tenant: account.tenantId, holdout: journey.holdoutPercent, control: journey.controlPercent)
                let orders = log.orders.values.filter { $0.openId == openId && $0.at >= entered && $0.at < entered + Int64(ExperimentReport.windowDays) * 86_400_000 }
                arms[arm, default: ArmOutcome()].add(converted: !orders.isEmpty, gmv: orders.map(\.amount).reduce(0, +), unfollowed: false)
            }
            let report = try await Journeys(flywheel).report(of: journey)
            var problems: [String] = []
            for arm in ExperimentArm.allCases {
                let want = arms[arm] ?? ArmOutcome(), have = report.arms[arm] ?? ArmOutcome()
                if want.fans != have.fans { problems.append("\(journey.name) \(arm.rawValue) fans: the log gives \(want.fans), the report \(have.fans)") }
                if want.converted != have.converted { problems.append("\(journey.name) \(arm.rawValue) converted: the log gives \(want.converted), the report \(have.converted)") }
                if want.gmv != have.gmv { problems.append("\(journey.name) \(arm.rawValue) GMV: the log gives \(Int64(want.gmv)), the report \(Int64(have.gmv))") }
            }
            checks.append(Check(name: "experiment \(journey.name)", compared: ExperimentArm.allCases.count * 3, mismatches: problems))
        }
        return checks
    }

    /// docs/journeys.md's assignment: FNV-1a 64 over salt, 0x7C, open_id; a 64-bit finaliser; mod 10,000.
    static func arm(_ openId: String, journey: String, tenant: String, holdout: Int, control: Int) -> ExperimentArm {
        func bucket(_ salt: String) -> Int {
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in Array(salt.utf8) + [0x7C] + Array(openId.utf8) { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
            h = (h ^ (h >> 33)) &* 0xC4CE_B9FE_1A85_EC53
            return Int((h ^ (h >> 33)) % 10_000)
        }
        if bucket("control|" + tenant) < control * 100 { return .control }
        return bucket("holdout|" + journey) < holdout * 100 ? .holdout : .treated
    }
}

/// The second implementation: each fan's state folded from its events in log order, as
/// docs/rules.md and docs/events.md state it.
struct Recount {
    struct Fan {
        var firstSeenAt: Int64
        var firstDomain: SourceDomain
        var firstChannel: Channel
        var lastActiveAt: Int64 = 0
        var following = false
        var followTime: Int64 = 0
        var count: [EventKind: Int] = [:]
        var gmv = 0
        var points = 0
        var level = 0
        /// Points earned per day (the last week's), and the newest day with points.
        var days: [Int: Int] = [:]
        var newestDay = Int.min
    }

    let rules: AccountRules
    let calendar: AccountCalendar
    var fans: [String: Fan] = [:]
    /// Paid orders by id (the first payment of an id counts), refunds by their event ids.
    var orders: [String: (openId: String, at: Int64, amount: Int64)] = [:]
    var refunds: [String: (orderId: String, amount: Int64)] = [:]
    /// Each fan's events of each kind, by time, for the journeys' triggers.
    var times: [EventKind: [String: [Int64]]] = [:]

    init(rules: AccountRules, calendar: AccountCalendar) {
        self.rules = rules
        self.calendar = calendar
    }

    mutating func add(_ e: FanEvent) {
        let operatorAct = [EventKind.tagAdded, .tagRemoved, .noteAdded].contains(e.kind)
        // An operator's act on a fan the log has not met changes nothing; it does not make a fan.
        if operatorAct { return }
        var fan = fans[e.openId] ?? Fan(firstSeenAt: e.occurredAt, firstDomain: e.domain, firstChannel: e.channel)
        if e.occurredAt < fan.firstSeenAt { (fan.firstSeenAt, fan.firstDomain, fan.firstChannel) = (e.occurredAt, e.domain, e.channel) }
        if e.kind != .dmSent, e.occurredAt >= fan.lastActiveAt { fan.lastActiveAt = e.occurredAt }
        fan.count[e.kind, default: 0] += 1
        times[e.kind, default: [:]][e.openId, default: []].append(e.occurredAt)
        switch e.kind {
        case .follow, .unfollow:
            if e.occurredAt >= fan.followTime { (fan.following, fan.followTime) = (e.kind == .follow, e.occurredAt) }
        case .orderPaid:
            fan.gmv += Int(e.amount)
            if let ref = e.ref, orders[ref] == nil { orders[ref] = (e.openId, e.occurredAt, e.amount) }
        case .orderRefunded:
            fan.gmv -= Int(e.amount)
            if let ref = e.ref { refunds[e.id] = (ref, e.amount) }
        default: break
        }
        earn(&fan, e)
        fans[e.openId] = fan
    }

    /// Points: flat plus per amount unit, capped per day at the cap of the fan's level when earned;
    /// none for a day more than 6 days before the newest day with points.
    func points(_ e: FanEvent) -> Int {
        guard let rule = rules.points.rules[e.kind] else { return 0 }
        return rule.flat + (rule.perAmount > 0 && rule.amountUnit > 0 ? rule.perAmount * Int(e.amount / Int64(rule.amountUnit)) : 0)
    }

    func earn(_ fan: inout Fan, _ e: FanEvent) {
        let day = calendar.day(ofMillis: e.occurredAt)
        let raw = points(e)
        guard raw > 0, fan.newestDay == .min || day > fan.newestDay - 7 else { return }
        let caps = rules.levels.dailyCaps
        let cap = caps[min(fan.level, caps.count - 1)]
        let earned = max(0, min(raw, cap - (fan.days[day] ?? 0)))
        fan.days[day, default: 0] += earned
        fan.points += earned
        fan.level = rules.levels.thresholds.filter { $0 <= fan.points }.count
        fan.newestDay = max(fan.newestDay, day)
        fan.days = fan.days.filter { $0.key > fan.newestDay - 7 }
    }

    /// Each fan's first event of `kind` at or after `from`.
    func firstEvents(of kind: String, from: Int64) -> [String: Int64] {
        guard let kind = EventKind(rawValue: kind) else { return [:] }
        return (times[kind] ?? [:]).compactMapValues { $0.filter { $0 >= from }.min() }
    }
}
