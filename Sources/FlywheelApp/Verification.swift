import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// `flywheel verify`: every fan's state and the account's figures recomputed from the raw event
/// log alone, by a second implementation written from the documents (docs/rules.md,
/// docs/events.md, docs/journeys.md, docs/commerce.md, docs/desk.md) that shares no code with the
/// projector, and compared with what the store holds and the reports say. Rules and the predicate
/// language are definitions both read; the folding of events is written twice.
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
        // The recorded moves of the segments journeys follow, each checked against the recount
        // right after its causing event.
        var triggers = try await triggerSegments(account)
        var watched: [Int64: [(trigger: Int, move: SegmentChange)]] = [:]
        for (i, trigger) in triggers.enumerated() where trigger.predicate != nil {
            for move in trigger.moves where move.causeSeq > 0 { watched[move.causeSeq, default: []].append((i, move)) }
        }
        var read = 0
        var after: Int64 = 0
        while true {
            let page = try await store.loggedEvents(of: account, after: after, limit: 5_000)
            guard let last = page.last else { break }
            for stored in page where stored.seq <= position.lastSeq && !quarantined.contains(stored.seq) {
                recount.add(stored.event)
                read += 1
                for (i, move) in watched[stored.seq] ?? [] { triggers[i].check(move, cause: stored.event, log: recount) }
            }
            after = last.seq
        }
        var checks: [Check] = []
        let stored = try await allFans(account)
        var histories: [String: [TierTransition]] = [:]
        for id in stored.keys { histories[id] = try await store.transitions(of: account, openId: id, limit: 1_000) }
        // The reports are read as any role of the enterprise reads them.
        let reader = Principal(tenantId: account.tenantId, userId: "verify", keyId: "verify", role: .analyst)
        let now = flywheel.env.now()
        checks.append(compareFans(recount.fans, stored))
        checks.append(compareTiers(stored, rules: rules.rules, calendar: account.calendar))
        checks.append(compareTransitions(histories, stored))
        checks.append(compareTransitionOrder(histories, stored, log: recount))
        checks.append(try await compareTierCounts(account, stored))
        checks.append(try await compareFunnel(account, log: recount, now: now, reader: reader))
        if let weeks = try await compareFunnelWeeks(account, log: recount, now: now, reader: reader) { checks.append(weeks) }
        checks.append(try await compareIndicators(account, log: recount, now: now, reader: reader))
        checks.append(try await compareOrders(account, recount))
        checks.append(try await compareSales(account, log: recount, reader: reader))
        checks.append(try await compareSLA(account, log: recount, now: now, reader: reader))
        checks += try await compareExperiments(account, log: recount)
        checks += try await compareSegmentExperiments(account, triggers, log: recount)
        checks += try await compareHoldouts(account, log: recount)
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
    func compareTransitions(_ histories: [String: [TierTransition]], _ stored: [String: FanState]) -> Check {
        var problems: [String] = []
        for (id, fan) in stored.sorted(by: { $0.key < $1.key }) where !(histories[id] ?? []).contains(where: { $0.to == fan.tier }) {
            problems.append("\(id) transitions: none leads to \(fan.tier.name), where the fan is")
        }
        return Check(name: "tier transitions", compared: stored.count, mismatches: problems)
    }

    /// Each fan's recorded transitions, put in the log order of the events that caused them, make
    /// one chain: the first from no tier (the fan's arrival), each from where the one before led,
    /// the last to the fan's tier; and they are the transitions the recount's own tiers make.
    func compareTransitionOrder(_ histories: [String: [TierTransition]], _ stored: [String: FanState], log: Recount) -> Check {
        func text(_ t: Tier?) -> String { t?.name ?? "none" }
        func text(_ t: TierTransition) -> String { "\(text(t.from))→\(t.to.name) by \(t.cause) at \(t.at)" }
        var problems: [String] = []
        var compared = 0
        for (id, fan) in stored.sorted(by: { $0.key < $1.key }) {
            // Stored newest first, equal times by the causing event's seq: reversed, equal times are in log order.
            var placed: [(position: Int, offset: Int, transition: TierTransition)] = []
            for (offset, t) in (histories[id] ?? []).reversed().enumerated() {
                guard let position = log.position(of: id, cause: t.cause, at: t.at) else {
                    problems.append("\(id) transition \(text(t)): the log holds no \(t.cause) of the fan at that time")
                    continue
                }
                placed.append((position, offset, t))
            }
            let chain = placed.sorted { ($0.position, $0.offset) < ($1.position, $1.offset) }.map(\.transition)
            var tier: Tier?
            for t in chain {
                if t.from != tier { problems.append("\(id) transition \(text(t)): the one before led to \(text(tier))") }
                tier = t.to
            }
            if tier != fan.tier { problems.append("\(id) transitions: the last leads to \(text(tier)), the fan is \(fan.tier.name)") }
            let recounted = log.fans[id]?.transitions ?? []
            if let i = (0..<max(chain.count, recounted.count)).first(where: { i in
                i >= chain.count || i >= recounted.count || text(chain[i]) != text(recounted[i])
            }) {
                problems.append("\(id) transition \(i + 1): the log gives \(i < recounted.count ? text(recounted[i]) : "none"), the store holds \(i < chain.count ? text(chain[i]) : "none")")
            }
            compared += chain.count + 1
        }
        return Check(name: "transition order", compared: compared, mismatches: problems)
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

    /// The funnel the console and the API report (under the conditions it used: the playbook's or
    /// the defaults) counted again over the recount's fans: each stage's fans meet its condition
    /// and every one before it.
    func compareFunnel(_ account: Account, log: Recount, now: Int64, reader: Principal) async throws -> Check {
        let funnel = try await Funnels(flywheel).report(of: [account], overrides: [:], by: reader).total
        var reached = log.fans.map { log.state(of: $0.key, $0.value) }
        var problems: [String] = []
        for stage in FunnelStage.allCases {
            if let condition = funnel.conditions[stage] {
                let compiled = try FanPredicate.parse(condition).compile(calendar: account.calendar)
                reached = reached.filter { compiled.matches($0, now: now) }
            }
            let reported = funnel.fans[stage] ?? 0
            if reached.count != reported { problems.append("funnel \(stage.rawValue): the log gives \(reached.count) fans, the report \(reported)") }
        }
        return Check(name: "funnel", compared: FunnelStage.allCases.count, mismatches: problems)
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

    /// The sales report's splits as the console reads them (the last 30 days; old fans followed
    /// before its start), from the log's payments and refunds and the recount's fans: the whole,
    /// fans and non-fans (following when paying), old and new fans, by channel paid through, by
    /// the buyer's tier and domain of arrival, and the buyers who bought twice or more.
    func compareSales(_ account: Account, log: Recount, reader: Principal) async throws -> Check {
        let report = try await GMVReports(flywheel).report(.init(accountId: account.id, tenantId: nil, from: nil, to: nil, cut: nil, windowDays: nil),
                                                           reachable: [account.tenantId], by: reader).report
        var refunded: [String: Int64] = [:]
        for refund in log.refunds.values { refunded[refund.orderId, default: 0] += refund.amount }
        var parts: [String: GMVReport.Part] = [:]
        var buyers: [String: Set<String>] = [:]
        var orders: [String: Int] = [:]
        for (id, paid) in log.orders where paid.at >= report.from && paid.at < report.to {
            // Net of every refund recorded, also after the period; a refunded order still counts.
            let net = paid.amount - min(paid.amount, refunded[id] ?? 0)
            let buyer = log.fans[paid.openId]
            var keys = ["total", "channel \(paid.channel.rawValue)"]
            if let buyer { keys += ["tier \(buyer.tier?.name ?? "none")", "domain \(buyer.firstDomain.rawValue)"] }
            if let buyer, let followed = buyer.followedAt, followed <= paid.at, buyer.following || paid.at < buyer.followTime {
                keys += ["fans", followed < report.cut ? "old fans" : "new fans"]
            } else {
                keys.append("non-fans")
            }
            for key in keys {
                parts[key, default: GMVReport.Part()].orders += 1
                parts[key, default: GMVReport.Part()].gmv += net
                if buyers[key, default: []].insert(paid.openId).inserted { parts[key, default: GMVReport.Part()].buyers += 1 }
            }
            orders[paid.openId, default: 0] += 1
        }
        var reported = ["total": report.total, "fans": report.fans, "non-fans": report.nonFans, "old fans": report.oldFans, "new fans": report.newFans]
        for (channel, part) in report.byChannel { reported["channel \(channel.rawValue)"] = part }
        for (tier, part) in report.byTier { reported["tier \(tier.name)"] = part }
        for (domain, part) in report.byDomain { reported["domain \(domain.rawValue)"] = part }
        func text(_ p: GMVReport.Part?) -> String { "\(p?.orders ?? 0) orders, \(p?.gmv ?? 0) fen, \(p?.buyers ?? 0) buyers" }
        let keys = Set(parts.keys).union(reported.keys).sorted()
        var problems = keys.compactMap { key in
            (parts[key] ?? GMVReport.Part()) == (reported[key] ?? GMVReport.Part()) ? nil : "GMV \(key): the log gives \(text(parts[key])), the report \(text(reported[key]))"
        }
        let repurchasers = orders.values.count { $0 >= 2 }
        if repurchasers != report.repurchasers { problems.append("repurchasers: the log gives \(repurchasers), the report \(report.repurchasers)") }
        return Check(name: "GMV splits", compared: keys.count + 1, mismatches: problems)
    }

    /// The DM desk's answers within target, as the console reads them (the last 7 days). Who
    /// answered and when is the desk's record, not the log's (an agent's reply from Flywheel, a
    /// resolve, business hours): each recorded answer is checked against the log (its wait starts
    /// at a DM of the fan; an answer in the platform's app is a `dm_sent` of the log) and against
    /// the account's targets, and the report's totals are counted again from them.
    func compareSLA(_ account: Account, log: Recount, now: Int64, reader: Principal) async throws -> Check {
        let report = try await Inbox(flywheel).slaReport(of: [account], days: 7, by: reader)
        let total = report.rows.first { $0.scope == "total" }
        let settings = try await store.deskSettings(of: account)
        let today = account.calendar.day(ofMillis: now)
        let answers = try await store.deskResponses(of: [account], from: account.calendar.startOfDay(today - 6), to: account.calendar.startOfDay(today + 1))
        var problems: [String] = []
        var within = 0
        for a in answers {
            let since = a.answeredAt - a.waited
            if a.waited > 0, !(log.times[.dmReceived]?[a.openId] ?? []).contains(since) {
                problems.append("\(a.openId) answer at \(a.answeredAt): waited from \(since), when the fan sent no DM in the log")
            }
            if a.by == "app", !(log.times[.dmSent]?[a.openId] ?? []).contains(a.answeredAt) {
                problems.append("\(a.openId) answer at \(a.answeredAt) in the platform's app: the log has no dm_sent to the fan then")
            }
            // Within business hours the wait's due time skips the closed hours: the desk's verdict stands.
            let target = Int64(a.first ? settings.firstResponseMinutes : settings.nextResponseMinutes) * 60_000
            let inTime = settings.businessHours == nil ? a.waited <= target : a.withinTarget
            if inTime != a.withinTarget { problems.append("\(a.openId) answer at \(a.answeredAt): waited \(a.waited) ms against \(target), recorded \(a.withinTarget ? "within" : "late")") }
            if inTime { within += 1 }
        }
        if (total?.answered ?? 0) != answers.count { problems.append("SLA answered: the desk recorded \(answers.count), the report \(total?.answered ?? 0)") }
        if (total?.withinTarget ?? 0) != within { problems.append("SLA within target: counted \(within), the report \(total?.withinTarget ?? 0)") }
        return Check(name: "SLA", compared: answers.count + 2, mismatches: problems)
    }

    /// The funnel's weeks (docs/operate.md) where the log alone gives them: the `new` stage, each
    /// week's fans first seen (a fan arrives with its first transition, from no tier) and the fans
    /// known at the week's end. The other stages' weeks are their live segments' moves, which the
    /// projector makes at the time it projects: a `within` window (every stage from `active` on) is
    /// read then, and a fan's moves in a batch are dated by its last event in it, so a history fed
    /// after the fact (an import, the demo's) is not the stages at each week's end, and the log
    /// holds neither the times of projection nor the batches. Nil before the funnel is tracked.
    func compareFunnelWeeks(_ account: Account, log: Recount, now: Int64, reader: Principal) async throws -> Check? {
        let weeks: [FunnelWeek]
        do {
            weeks = try await Funnels(flywheel).history(accountId: account.id, tenantId: nil, weeks: 52, reachable: [account.tenantId], by: reader).weeks
        } catch UseCaseError.conflict(code: "not_tracked", _) {
            return nil
        }
        let arrivals = log.fans.values.compactMap { $0.transitions.first.map { account.calendar.day(ofMillis: $0.at) } }
        let today = account.calendar.day(ofMillis: now)
        var problems: [String] = []
        for week in weeks {
            let last = min(week.firstDay + 6, today), date = AccountCalendar.dateText(ofDay: week.firstDay)
            let known = arrivals.count { $0 <= last }, arrived = arrivals.count { $0 >= week.firstDay && $0 <= last }
            if known != week.fans[.new] ?? 0 { problems.append("week of \(date) new fans: the log gives \(known), the report \(week.fans[.new] ?? 0)") }
            if arrived != week.entered[.new] ?? 0 { problems.append("week of \(date) first seen: the log gives \(arrived), the report \(week.entered[.new] ?? 0)") }
        }
        return Check(name: "funnel weeks", compared: weeks.count * 2, mismatches: problems)
    }

    /// Popularity and business value as the console reads them (the last 30 days), each input
    /// scored as docs/operate.md states, from the log: views, live minutes, interactions, follows
    /// and unfollows by the events' days; orders paid (a repeat when the fan had paid one before)
    /// and GMV paid less refunded by the payments' and refunds' days; followers and engaged fans at
    /// each day's end, the recount's tiers now walked back through its transitions. Leads are the
    /// lead inbox's (one per phone number across the enterprise's accounts; operators add some),
    /// not one account's log: their input is taken as reported.
    func compareIndicators(_ account: Account, log: Recount, now: Int64, reader: Principal) async throws -> Check {
        let series = try await Indicators(flywheel).report(accountId: account.id, tenantId: nil, days: 30, reachable: [account.tenantId], by: reader).total
        let references = try await store.tenant(id: account.tenantId)?.industry?.playbook.references ?? .general
        let calendar = account.calendar
        // Tiers at each day's end: today's, less the moves dated after it.
        var tiers: [Tier: Int] = [:], moves: [Int: [TierTransition]] = [:]
        for fan in log.fans.values {
            if let tier = fan.tier { tiers[tier, default: 0] += 1 }
            for t in fan.transitions { moves[calendar.day(ofMillis: t.at), default: []].append(t) }
        }
        let firstDay = (series.values.first?.day ?? 0) - 6
        var followers: [Int: Int] = [:], engaged: [Int: Int] = [:]
        for day in stride(from: max(calendar.day(ofMillis: now), moves.keys.max() ?? 0), through: firstDay, by: -1) {
            followers[day] = [Tier.passerby, .liking, .trueLove].map { tiers[$0] ?? 0 }.reduce(0, +)
            engaged[day] = (tiers[.liking] ?? 0) + (tiers[.trueLove] ?? 0)
            for t in moves[day] ?? [] {
                tiers[t.to, default: 0] -= 1
                if let from = t.from { tiers[from, default: 0] += 1 }
            }
        }
        var orders: [Int: (count: Int, repeats: Int)] = [:], gmv: [Int: Int64] = [:]
        let paidTimes = Dictionary(grouping: log.orders.values, by: \.openId).mapValues { $0.map(\.at) }
        for paid in log.orders.values {
            let day = calendar.day(ofMillis: paid.at)
            orders[day, default: (0, 0)].count += 1
            if (paidTimes[paid.openId] ?? []).contains(where: { $0 < paid.at }) { orders[day, default: (0, 0)].repeats += 1 }
            gmv[day, default: 0] += paid.amount
        }
        for refund in log.refunds.values { gmv[calendar.day(ofMillis: refund.at), default: 0] -= refund.amount }
        func score(_ rate: Double, _ reference: Double) -> Double { rate <= 0 ? 0 : 100 * rate / (rate + reference) }
        var problems: [String] = []
        for value in series.values {
            let week = value.day - 6...value.day, date = AccountCalendar.dateText(ofDay: value.day)
            let base = Double(max(followers[value.day] ?? 0, 1))
            func count(_ kinds: [EventKind]) -> Double { Double(week.map { day in kinds.map { log.daily[day]?[$0]?.count ?? 0 }.reduce(0, +) }.reduce(0, +)) }
            let minutes = Double(week.map { log.daily[$0]?[.liveWatch]?.amount ?? 0 }.reduce(0, +))
            let paid = Double(week.map { orders[$0]?.count ?? 0 }.reduce(0, +)), repeats = Double(week.map { orders[$0]?.repeats ?? 0 }.reduce(0, +))
            let popularity: [(String, Double, Double)] = [
                ("views", count([.videoView]) / base, references.views), ("watch_minutes", minutes / base, references.watchMinutes),
                ("interactions", count([.like, .comment, .share, .liveGift, .liveShare, .dmReceived, .groupMessage]) / base, references.interactions),
                ("fan_growth", (count([.follow]) - count([.unfollow])) / base, references.growth),
                ("tier_mix", Double(engaged[value.day] ?? 0) / base, references.engagedShare),
            ]
            let leads = value.businessInputs.first { $0.name == "leads" }?.rate ?? 0
            let business: [(String, Double, Double)] = [
                ("leads", leads, references.leads), ("orders", 1_000 * paid / base, references.orders),
                ("gmv", Double(week.map { gmv[$0] ?? 0 }.reduce(0, +)) / base, references.gmv), ("repurchase", paid == 0 ? 0 : repeats / paid, references.repurchase),
            ]
            let reported = Dictionary((value.popularityInputs + value.businessInputs).map { ($0.name, $0.rate) }) { a, _ in a }
            for (name, rate, _) in popularity + business where abs(rate - (reported[name] ?? .nan)) > 1e-9 * max(1, abs(rate)) || reported[name] == nil {
                problems.append("\(date) \(name): the log gives \(rate), the report \(reported[name].map { "\($0)" } ?? "none")")
            }
            for (name, inputs, have) in [("popularity", popularity, value.popularity), ("business", business, value.business)] {
                let want = inputs.map { score($0.1, $0.2) }.reduce(0, +) / Double(inputs.count)
                if abs(want - have) > 1e-9 { problems.append("\(date) \(name) value: the log gives \(want), the report \(have)") }
            }
        }
        return Check(name: "indicators", compared: series.values.count * 10, mismatches: problems)
    }

    /// A journey's experiment, for a journey triggered by an event or a tier: who entered on which
    /// arm (the first trigger after launch, the arm by the documented hash, written again here)
    /// and what each arm bought in the 30 days after, against the report.
    func compareExperiments(_ account: Account, log: Recount) async throws -> [Check] {
        var checks: [Check] = []
        for journey in try await store.journeys(tenantId: account.tenantId, accountIds: [account.id]) {
            guard let launched = journey.launchedAt else { continue }
            let entries: [String: Int64]
            switch journey.trigger.kind {
            case .event: entries = log.firstEvents(of: journey.trigger.value, from: launched)
            case .tier: entries = log.firstEntries(into: journey.trigger.value, from: launched)
            // A segment's and a funnel stage's: `compareSegmentExperiments`; a lead's stage and a date are not in the log.
            default: continue
            }
            let arms = entries.map { ($0.key, Self.arm($0.key, journey: journey.id, tenant: account.tenantId, holdout: journey.holdoutPercent, control: journey.controlPercent), $0.value) }
            let report = try await Journeys(flywheel).report(of: journey)
            checks.append(Check(name: "experiment \(journey.name)", compared: ExperimentArm.allCases.count * 3,
                                mismatches: compareArms(journey.name, arms, days: ExperimentReport.windowDays, log: log, report: report)))
        }
        return checks
    }

    /// A journey triggered by a segment, or by a funnel stage (its live segment), with the
    /// segment's moves recorded from the launch on, oldest first.
    struct TriggerSegment {
        var journey: Journey
        var moves: [SegmentChange]
        /// The segment's condition where the recount can evaluate it: not with a `within` window
        /// (the projector reads it at the time it projects, which the log does not hold), nor a
        /// field the log does not carry (profile, tags, groups).
        var predicate: CompiledPredicate?
        var checked = 0
        var problems: [String] = []

        static let unrecounted: Set<String> = ["nickname", "gender", "age_band", "device", "region", "city", "phone", "interests", "tags", "groups"]

        /// The move's cause is the fan's event at that place in the log, and right after it the
        /// fan meets the condition exactly when the move is an entry.
        mutating func check(_ move: SegmentChange, cause event: FanEvent, log: Recount) {
            guard let predicate else { return }
            checked += 1
            let what = "\(journey.name) \(move.openId) \(move.entered ? "entered" : "left") by \(move.cause) at \(move.at)"
            guard event.openId == move.openId, event.kind.rawValue == move.cause else {
                problems.append("\(what): the log's event there is \(event.kind.rawValue) of \(event.openId)")
                return
            }
            let member = log.fans[move.openId].map { predicate.matches(log.state(of: move.openId, $0), now: move.at) } ?? false
            if member != move.entered { problems.append("\(what): after it the log gives \(member ? "a member" : "not a member")") }
        }
    }

    func triggerSegments(_ account: Account) async throws -> [TriggerSegment] {
        let segments = try await store.segments(of: account)
        var triggers: [TriggerSegment] = []
        for journey in try await store.journeys(tenantId: account.tenantId, accountIds: [account.id]) {
            guard let launched = journey.launchedAt else { continue }
            let segment = switch journey.trigger.kind {
            case .segment: segments.first { $0.id == journey.trigger.value }
            case .funnelStage: FunnelStage(rawValue: journey.trigger.value).flatMap { stage in segments.first { $0.name == stage.segmentName } }
            default: Segment?.none
            }
            guard let segment else { continue }
            let moves = try await store.segmentChanges(id: segment.id, of: account, limit: 10_000_000).filter { $0.at >= launched }
            let predicate = segment.predicate.flatMap { p in
                p.windows.isEmpty && p.fields.isDisjoint(with: TriggerSegment.unrecounted) ? p.compile(calendar: account.calendar) : nil
            }
            triggers.append(TriggerSegment(journey: journey, moves: moves.reversed(), predicate: predicate))
        }
        return triggers
    }

    /// A segment- or funnel-stage-triggered journey's experiment. The segment engine is not
    /// replayed: the entries are the segment's recorded ones, each fan's first from the launch on
    /// made by an event or a change of the rules (time passing and operators enter no journey).
    /// Each move an event made was checked against the recount as the log was folded (`check`);
    /// that the fan was not a member before is the store's: a batch's moves are worked out from
    /// the memberships before it, and a fan's earlier events in the batch may already have made
    /// it match. The arms and what they bought are recounted as for the other journeys.
    func compareSegmentExperiments(_ account: Account, _ triggers: [TriggerSegment], log: Recount) async throws -> [Check] {
        var checks: [Check] = []
        for trigger in triggers {
            let journey = trigger.journey
            var entered: [String: Int64] = [:]
            for move in trigger.moves where move.entered && (EventKind(rawValue: move.cause) != nil || move.cause == "rules_changed") {
                entered[move.openId] = min(entered[move.openId] ?? move.at, move.at)
            }
            let arms = entered.map { ($0.key, Self.arm($0.key, journey: journey.id, tenant: account.tenantId, holdout: journey.holdoutPercent, control: journey.controlPercent), $0.value) }
            let report = try await Journeys(flywheel).report(of: journey)
            checks.append(Check(name: "experiment \(journey.name)", compared: ExperimentArm.allCases.count * 3 + trigger.checked,
                                mismatches: trigger.problems + compareArms(journey.name, arms, days: ExperimentReport.windowDays, log: log, report: report)))
        }
        return checks
    }

    /// Posts and campaigns with a holdout. Who was reached (claimed, entered, took a code) and who
    /// was held out, and when, are the reach's and the campaigns' records, not the log's: each
    /// fan's arm must be the one the documented hash gives (salt `holdout|` and the post's or
    /// campaign's id, no global control group), and what each arm bought in the window after (a
    /// post's 7 days, a campaign's 30) is recounted from the log.
    func compareHoldouts(_ account: Account, log: Recount) async throws -> [Check] {
        func check(_ kind: CampaignKind, _ name: String, id: String, percent: Int, days: Int, report: ExperimentReport?) async throws -> Check {
            let entries = try await store.holdoutEntries(kind, id: id, of: account)
            var problems: [String] = []
            for (openId, arm, _) in entries {
                let hashed = Self.arm(openId, journey: id, tenant: account.tenantId, holdout: percent, control: 0)
                if hashed != arm { problems.append("\(name) \(openId): on the \(arm.rawValue) arm, the hash gives \(hashed.rawValue)") }
            }
            return Check(name: name, compared: entries.count + ExperimentArm.allCases.count * 3,
                         mismatches: problems + compareArms(name, entries, days: days, log: log, report: report))
        }
        var checks: [Check] = []
        for post in try await store.posts(of: account, limit: 10_000) where post.holdoutPercent > 0 {
            // Nothing to compare before it went out.
            guard let report = try await Posts(flywheel).experiment(of: post, in: account) else { continue }
            checks.append(try await check(.post, "post experiment \(post.title)", id: post.id, percent: post.holdoutPercent, days: Posts.experimentDays, report: report))
        }
        let days = ExperimentReport.windowDays
        for c in try await store.coupons(of: account) where c.holdoutPercent > 0 {
            checks.append(try await check(.coupon, "coupon experiment \(c.name)", id: c.id, percent: c.holdoutPercent, days: days,
                                          report: try await Coupons(flywheel).experiment(of: c, in: account)))
        }
        for e in try await store.redEnvelopes(of: account) where e.holdoutPercent > 0 {
            checks.append(try await check(.redEnvelope, "red envelope experiment \(e.name)", id: e.id, percent: e.holdoutPercent, days: days,
                                          report: try await RedEnvelopes(flywheel).experiment(of: e, in: account)))
        }
        for l in try await store.lotteries(of: account) where l.holdoutPercent > 0 {
            checks.append(try await check(.lottery, "lottery experiment \(l.name)", id: l.id, percent: l.holdoutPercent, days: days,
                                          report: try await Lotteries(flywheel).experiment(of: l, in: account)))
        }
        for f in try await store.fissionCampaigns(of: account) where f.holdoutPercent > 0 {
            checks.append(try await check(.fission, "fission experiment \(f.name)", id: f.id, percent: f.holdoutPercent, days: days,
                                          report: try await FissionCampaigns(flywheel).experiment(of: f, in: account)))
        }
        return checks
    }

    /// Each arm's fans, those who paid an order in the `days` after entering and what they paid,
    /// from the log's payments, against the report.
    func compareArms(_ name: String, _ entries: [(openId: String, arm: ExperimentArm, at: Int64)], days: Int, log: Recount, report: ExperimentReport?) -> [String] {
        let window = Int64(days) * 86_400_000
        let payments = Dictionary(grouping: log.orders.values, by: \.openId)
        var arms: [ExperimentArm: ArmOutcome] = [:]
        for entry in entries {
            let orders = (payments[entry.openId] ?? []).filter { $0.at >= entry.at && $0.at < entry.at + window }
            arms[entry.arm, default: ArmOutcome()].add(converted: !orders.isEmpty, gmv: orders.map(\.amount).reduce(0, +), unfollowed: false)
        }
        var problems: [String] = []
        for arm in ExperimentArm.allCases {
            let want = arms[arm] ?? ArmOutcome(), have = report?.arms[arm] ?? ArmOutcome()
            if want.fans != have.fans { problems.append("\(name) \(arm.rawValue) fans: the log gives \(want.fans), the report \(have.fans)") }
            if want.converted != have.converted { problems.append("\(name) \(arm.rawValue) converted: the log gives \(want.converted), the report \(have.converted)") }
            if want.gmv != have.gmv { problems.append("\(name) \(arm.rawValue) GMV: the log gives \(Int64(want.gmv)), the report \(Int64(have.gmv))") }
        }
        return problems
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
        var latestDomain: SourceDomain
        var latestChannel: Channel
        var following = false
        /// The follow that made the fan follow (a follow while following changes nothing).
        var followedAt: Int64?
        var followTime: Int64 = 0
        var count: [EventKind: Int] = [:]
        /// Amounts summed by kind: live minutes, gift value.
        var amounts: [EventKind: Int64] = [:]
        var gmv = 0
        var lastPaidAt: Int64?
        var points = 0
        var level = 0
        /// Points earned per day (the last week's), and the newest day with points.
        var days: [Int: Int] = [:]
        var newestDay = Int.min
        /// Nil before the first event: arriving is a transition from no tier.
        var tier: Tier?
        var tierChangedAt: Int64
        var transitions: [TierTransition] = []
    }

    /// An order's payment: the first `order_paid` of its id.
    struct Payment {
        var openId: String
        var at: Int64
        var amount: Int64
        var channel: Channel
    }

    /// What a transition names as its cause: the fan, the event kind and its time.
    struct Cause: Hashable {
        var openId: String
        var kind: String
        var at: Int64
    }

    let rules: AccountRules
    let calendar: AccountCalendar
    /// The tier rules, highest tier first: a fan is in the first whose predicate holds.
    let tiers: [(Tier, CompiledPredicate)]
    var fans: [String: Fan] = [:]
    /// Paid orders by id (the first payment of an id counts), refunds by their event ids.
    var orders: [String: Payment] = [:]
    var refunds: [String: (orderId: String, amount: Int64, at: Int64)] = [:]
    /// Events of each kind by day, and their amounts summed, for the indicators.
    var daily: [Int: [EventKind: (count: Int, amount: Int64)]] = [:]
    /// Each fan's events of each kind, by time, for the journeys' triggers.
    var times: [EventKind: [String: [Int64]]] = [:]
    /// The log position of each fan's first event of a kind at a time.
    var positions: [Cause: Int] = [:]

    init(rules: AccountRules, calendar: AccountCalendar) {
        self.rules = rules
        self.calendar = calendar
        tiers = [(.trueLove, rules.tiers.trueLove.compile(calendar: calendar)), (.liking, rules.tiers.liking.compile(calendar: calendar)),
                 (.passerby, rules.tiers.passerby.compile(calendar: calendar))]
    }

    mutating func add(_ e: FanEvent) {
        let cause = Cause(openId: e.openId, kind: e.kind.rawValue, at: e.occurredAt)
        if positions[cause] == nil { positions[cause] = positions.count }
        let operatorAct = [EventKind.tagAdded, .tagRemoved, .noteAdded].contains(e.kind)
        // An operator's act on a fan the log has not met changes nothing; it does not make a fan.
        if operatorAct { return }
        var fan = fans[e.openId] ?? Fan(firstSeenAt: e.occurredAt, firstDomain: e.domain, firstChannel: e.channel, latestDomain: e.domain,
                                        latestChannel: e.channel, tierChangedAt: e.occurredAt)
        if e.occurredAt < fan.firstSeenAt { (fan.firstSeenAt, fan.firstDomain, fan.firstChannel) = (e.occurredAt, e.domain, e.channel) }
        if e.kind != .dmSent, e.occurredAt >= fan.lastActiveAt { (fan.lastActiveAt, fan.latestDomain, fan.latestChannel) = (e.occurredAt, e.domain, e.channel) }
        // A refund of part of an order (`partial`, docs/events.md) leaves the order counted.
        if !(e.kind == .orderRefunded && e.attributes["partial"] != nil) { fan.count[e.kind, default: 0] += 1 }
        fan.amounts[e.kind, default: 0] += e.amount
        times[e.kind, default: [:]][e.openId, default: []].append(e.occurredAt)
        let day = calendar.day(ofMillis: e.occurredAt)
        daily[day, default: [:]][e.kind, default: (0, 0)].count += 1
        daily[day, default: [:]][e.kind, default: (0, 0)].amount += e.amount
        switch e.kind {
        case .follow, .unfollow:
            if e.occurredAt >= fan.followTime {
                if e.kind == .follow, !fan.following { fan.followedAt = e.occurredAt }
                (fan.following, fan.followTime) = (e.kind == .follow, e.occurredAt)
            }
        case .orderPaid:
            fan.gmv += Int(e.amount)
            fan.lastPaidAt = max(fan.lastPaidAt ?? e.occurredAt, e.occurredAt)
            if let ref = e.ref, orders[ref] == nil { orders[ref] = Payment(openId: e.openId, at: e.occurredAt, amount: e.amount, channel: e.channel) }
        case .orderRefunded:
            fan.gmv -= Int(e.amount)
            if let ref = e.ref { refunds[e.id] = (ref, e.amount, e.occurredAt) }
        default: break
        }
        earn(&fan, e)
        retier(&fan, e)
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

    /// The tier after each event: the highest whose rule holds (docs/rules.md), a transition
    /// dated by the event when it changed.
    func retier(_ fan: inout Fan, _ e: FanEvent) {
        let state = state(of: e.openId, fan)
        let tier = tiers.first { $0.1.matches(state, now: e.occurredAt) }?.0 ?? .potential
        guard tier != fan.tier else { return }
        fan.transitions.append(TierTransition(openId: e.openId, from: fan.tier, to: tier, at: e.occurredAt, cause: e.kind.rawValue))
        (fan.tier, fan.tierChangedAt) = (tier, e.occurredAt)
    }

    /// The fan as the predicate language reads it, from the recount alone (profile, tags and
    /// groups are not recounted: conditions on them see none).
    func state(of openId: String, _ fan: Fan) -> FanState {
        func n(_ kind: EventKind) -> Int32 { Int32(clamping: fan.count[kind] ?? 0) }
        func sum(_ kind: EventKind) -> Int32 { Int32(clamping: fan.amounts[kind] ?? 0) }
        var c = FanCounters()
        (c.videoViews, c.likes, c.comments, c.shares) = (n(.videoView), n(.like), n(.comment), n(.share))
        (c.liveWatches, c.liveMinutes, c.liveGifts, c.giftValue, c.liveShares) = (n(.liveWatch), sum(.liveWatch), n(.liveGift), sum(.liveGift), n(.liveShare))
        (c.dmsReceived, c.dmsSent, c.dmEntries) = (n(.dmReceived), n(.dmSent), n(.dmEntered))
        (c.groupJoins, c.groupLeaves, c.groupMessages, c.homepageVisits, c.leads) = (n(.groupJoin), n(.groupLeave), n(.groupMessage), n(.homepageVisit), n(.leadSubmitted))
        (c.ordersPaid, c.ordersRefunded, c.couponsClaimed, c.couponsRedeemed) = (n(.orderPaid), n(.orderRefunded), n(.couponClaimed), n(.couponRedeemed))
        (c.follows, c.unfollows) = (n(.follow), n(.unfollow))
        return FanState(openId: openId, nickname: nil, firstSeenAt: fan.firstSeenAt, lastActiveAt: fan.lastActiveAt, firstDomain: fan.firstDomain,
                        firstChannel: fan.firstChannel, latestDomain: fan.latestDomain, latestChannel: fan.latestChannel, following: fan.following,
                        followedAt: fan.followedAt, followChangedAt: fan.followTime, counters: c, gmv: fan.gmv, intimacy: fan.points, level: fan.level,
                        ledger: IntimacyLedger(), tier: fan.tier ?? .potential, tierChangedAt: fan.tierChangedAt, lastOrderedAt: fan.lastPaidAt,
                        profile: FanProfile(), tags: [], groups: [:])
    }

    /// Where in the log the event a transition names happened: the fan's first event of that kind then.
    func position(of openId: String, cause: String, at: Int64) -> Int? { positions[Cause(openId: openId, kind: cause, at: at)] }

    /// Each fan's first event of `kind` at or after `from`.
    func firstEvents(of kind: String, from: Int64) -> [String: Int64] {
        guard let kind = EventKind(rawValue: kind) else { return [:] }
        return (times[kind] ?? [:]).compactMapValues { $0.filter { $0 >= from }.min() }
    }

    /// Each fan's first move into the tier named at or after `from`.
    func firstEntries(into tier: String, from: Int64) -> [String: Int64] {
        guard let tier = Tier(name: tier) else { return [:] }
        return fans.compactMapValues { $0.transitions.filter { $0.to == tier && $0.at >= from }.map(\.at).min() }
    }
}
