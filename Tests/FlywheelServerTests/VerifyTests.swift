import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Testing

/// `flywheel verify`'s second implementation agrees with the projector and the reports on a varied
/// log, and finds a fan's state, a tier, a transition, an order, a sale's channel, an SLA verdict,
/// the funnel's new fans, an indicator's input, a segment's recorded move and a campaign's arm and
/// sales that the store holds differently from what the log gives.
@Suite struct VerifyTests {
    @Test(arguments: StoreKind.allCases) func theLogAndTheStoreAgreeAndATamperedValueIsFound(_ kind: StoreKind) async throws {
        let start: Int64 = 1_767_225_600_000, day: Int64 = 86_400_000
        // Journeys launched the day before the log starts; the log projected and verified on day 45.
        let clock = TestClock(start - day)
        let f = try await ServerFixture(kind, clock: clock)
        let env = f.flywheel.env
        try await f.test { client in
            let accountId = try await client.account(key: f.key, clientKey: "ck-v", secret: "s", openId: "acct-v")
            let account = try #require(try await env.store.account(id: accountId, tenantIds: [f.tenantId]))
            let owner = Principal(tenantId: f.tenantId, userId: "test", keyId: "test", role: .owner)
            let journeys = Journeys(f.flywheel)
            var launched: [Journey] = []
            for (name, trigger) in [("followed", JourneyTrigger(kind: .tier, value: "passerby")), ("wrote", JourneyTrigger(kind: .event, value: "dm_received"))] {
                let made = try await journeys.create(.init(name: name, trigger: trigger, steps: [JourneyStep(kind: .wait, minutes: 60)], holdoutPercent: 50),
                                                     accountId: accountId, reachable: [f.tenantId], by: owner)
                launched.append(try await journeys.launch(made.id, reachable: [f.tenantId], by: owner))
            }
            // A segment's and a funnel stage's journeys (the launch tracks the funnel: its weeks are there to read).
            let buyers = try await Segments(f.flywheel).create(name: "buyers", predicate: FanPredicate.parse("orders >= 1"), in: account, by: owner)
            var segmentJourneys: [Journey] = []
            for (name, trigger) in [("bought", JourneyTrigger(kind: .segment, value: buyers.id)), ("settled", JourneyTrigger(kind: .funnelStage, value: "settled"))] {
                let made = try await journeys.create(.init(name: name, trigger: trigger, steps: [JourneyStep(kind: .wait, minutes: 60)], holdoutPercent: 50),
                                                     accountId: accountId, reachable: [f.tenantId], by: owner)
                segmentJourneys.append(try await journeys.launch(made.id, reachable: [f.tenantId], by: owner))
            }
            // A coupon with a holdout, asked for by every fan before the log starts: the 30 days after take in its first orders.
            var draft = Coupons.Draft(name: "券", valueKind: "amount", value: 500, thresholdFen: nil, validFrom: nil, validUntil: start + 60 * day, stock: 1_000,
                                      perFanLimit: nil, audience: nil, requiresFollow: nil, activityId: nil)
            draft.holdoutPercent = 50
            let coupon = try await Coupons(f.flywheel).create(draft, of: account, by: owner)
            for i in 0..<41 { _ = try? await Coupons(f.flywheel).claim(coupon.id, for: "fan\(i)", of: account, by: owner) }
            // Views, likes, follows and unfollows out of order, gifts, orders and a refund over 40 days; a late event; an operator's tag.
            let kinds: [(EventKind, Int64)] = [(.videoView, 0), (.like, 0), (.follow, 0), (.comment, 0), (.liveWatch, 45), (.liveGift, 3_000),
                                               (.orderPaid, 19_900), (.dmReceived, 0), (.unfollow, 0), (.share, 0), (.orderRefunded, 19_900)]
            var events: [FanEvent] = (0..<3_000).map { i in
                let (kind, amount) = kinds[(i * 7 + i / 11) % kinds.count]
                let jitter: Int64 = i % 19 == 0 ? -3 * day : 0
                return FanEvent(id: "e\(i)", kind: kind, openId: "fan\(i % 41)", occurredAt: start + Int64(i) * 1_200_000 + jitter, channel: i % 3 == 0 ? .search : .douPlus,
                                amount: amount, ref: kind == .orderPaid || kind == .orderRefunded ? "order-\(i % 300)" : nil)
            }
            events.append(FanEvent(id: "tag", kind: .tagAdded, openId: "fan1", occurredAt: start + 1, channel: .unknown, ref: "vip"))
            // In the reports' last 30 days: orders through lives and groups, one partly refunded; ten new fans who write and are
            // answered in the platform's app, the even ones within the 30 minutes.
            for i in 0..<10 {
                events.append(FanEvent(id: "late-\(i)", kind: .orderPaid, openId: "fan\(i)", occurredAt: start + 42 * day + Int64(i) * 3_600_000,
                                       channel: i % 2 == 0 ? .liveFeed : .group, amount: 9_900, ref: "late-\(i)"))
                let wrote = start + 40 * day + Int64(i) * 3 * 3_600_000
                events.append(FanEvent(id: "dm-in-\(i)", kind: .dmReceived, openId: "dm\(i)", occurredAt: wrote, channel: .dm))
                events.append(FanEvent(id: "dm-out-\(i)", kind: .dmSent, openId: "dm\(i)", occurredAt: wrote + (i % 2 == 0 ? 10 : 50) * 60_000, channel: .dm))
            }
            events.append(FanEvent(id: "late-0-refund", kind: .orderRefunded, openId: "fan0", occurredAt: start + 43 * day, channel: .liveFeed, amount: 4_000, ref: "late-0"))
            _ = try await env.store.append(events.map { AccountEvent(tenantId: f.tenantId, accountId: accountId, event: $0) }) { _ in }
            clock.advance(by: 46 * day)
            await f.flywheel.projector.drain()
            await f.flywheel.desk.drain()
            var report = try await Verification(f.flywheel).verify(account)
            #expect(report.fans == 51 && report.events == events.count && report.checks.map(\.compared).reduce(0, +) > 700)
            #expect(report.mismatches == 0, "\(report.checks.flatMap(\.mismatches).prefix(5))")
            let compared = Dictionary(report.checks.map { ($0.name, $0.compared) }) { a, _ in a }
            #expect(compared["transition order"] ?? 0 > 51 && compared["funnel"] == 6 && compared["GMV splits"] ?? 0 > 8 && compared["SLA"] == 12,
                    "\(compared)")
            for journey in launched {
                let entered = try await journeys.report(of: journey).arms.values.map(\.fans).reduce(0, +)
                #expect(entered > 5 && compared["experiment \(journey.name)"] == 9, "\(journey.name): \(entered) entered")
            }
            // The segments' moves each checked against the log, besides the arms.
            for journey in segmentJourneys {
                let entered = try await journeys.report(of: journey).arms.values.map(\.fans).reduce(0, +)
                #expect(entered > 5 && compared["experiment \(journey.name)"] ?? 0 >= 9 + entered, "\(journey.name): \(entered) entered")
            }
            let couponReport = try #require(try await Coupons(f.flywheel).experiment(of: coupon, in: account))
            #expect(couponReport.arms[.holdout]?.fans ?? 0 > 5 && couponReport.arms[.treated]?.converted ?? 0 > 5 && compared["coupon experiment 券"] == 50,
                    "\(compared)")
            // Weeks from the one the log starts in (day 0, a Thursday) to the 46th day; indicators for 30 days.
            #expect(compared["funnel weeks"] == 104 && compared["indicators"] == 300, "\(compared)")

            let runner = try #require((env.store as? any SQLStore)?.runner)
            func tamper(_ sql: String, _ values: String...) async throws {
                try await runner.transaction([.execute(SQLStatement(sql, ([f.tenantId] + values).map(Cell.text)))])
                report = try await Verification(f.flywheel).verify(account)
            }
            func found(_ check: String) -> [String] { report.checks.first { $0.name == check }?.mismatches ?? [] }
            try await tamper("UPDATE fans SET gmv = gmv + 100, tier = (tier + 1) % 4 WHERE tenant_id = ? AND open_id = ?", "fan7")
            #expect(found("fan state").contains { $0.hasPrefix("fan7 gmv:") } && found("tiers by the rules").contains { $0.hasPrefix("fan7 tier:") })
            try await tamper("DELETE FROM tier_transitions WHERE tenant_id = ? AND open_id = ?", "fan8")
            #expect(found("tier transitions").map { String($0.prefix(17)) } == ["fan8 transitions:"])
            #expect(found("tier counts").isEmpty, "the counts follow the fans' rows")
            // The first transition made to start from a tier: the chain is broken where the fan arrived.
            try await tamper("UPDATE tier_transitions SET from_tier = 3 WHERE tenant_id = ? AND open_id = ? AND from_tier IS NULL", "fan9")
            #expect(found("transition order").contains { $0.hasPrefix("fan9 transition true_love→") && $0.hasSuffix("the one before led to none") },
                    "\(found("transition order"))")
            try await tamper("DELETE FROM orders WHERE tenant_id = ? AND order_id = ?", "order-6")
            let orders = found("orders and GMV")
            #expect(orders.contains { $0.hasPrefix("orders: the log has") } && orders.contains { $0.hasPrefix("GMV paid:") }, "one order fewer, its amount missing: \(orders)")
            try await tamper("UPDATE orders SET channel = 'search' WHERE tenant_id = ? AND order_id = ?", "late-2")
            #expect(found("GMV splits").contains { $0.hasPrefix("GMV channel live_feed: the log gives 5 orders") }, "\(found("GMV splits"))")
            try await tamper("UPDATE desk_responses SET within_target = 1 - within_target WHERE tenant_id = ? AND open_id = ?", "dm3")
            #expect(found("SLA").contains { $0.hasPrefix("dm3 answer at") && $0.hasSuffix("recorded within") } && found("SLA").contains { $0.hasPrefix("SLA within target: counted 5") },
                    "\(found("SLA"))")
            try await tamper("DELETE FROM tier_flow_daily WHERE tenant_id = ? AND account_id = ? AND from_tier = -1", accountId)
            #expect(found("funnel weeks").contains { $0.hasSuffix("first seen: the log gives 41, the report 0") }, "\(found("funnel weeks"))")
            try await tamper("UPDATE popularity_daily SET views = views + 50 WHERE tenant_id = ? AND account_id = ?", accountId)
            #expect(found("indicators").contains { $0.contains(" views: the log gives") } && found("indicators").contains { $0.contains(" popularity value:") },
                    "\(found("indicators").prefix(3))")
            #expect(found("experiment settled").isEmpty && found("experiment bought").isEmpty)
            try await tamper("UPDATE segment_changes SET entered = 1 - entered WHERE tenant_id = ? AND segment_id = ?", buyers.id)
            #expect(found("experiment bought").contains { $0.contains(" left by order_paid at ") && $0.hasSuffix("after it the log gives a member") },
                    "\(found("experiment bought").prefix(3))")
            let treated = try #require((0..<41).map { "fan\($0)" }.first { ExperimentArm.of($0, experiment: coupon.id, holdoutPercent: 50, tenantId: f.tenantId, controlPercent: 0) == .treated })
            try await tamper("INSERT INTO campaign_holdouts (tenant_id, account_id, campaign_id, open_id, at) VALUES (?, ?, ?, ?, 0)", accountId, coupon.id, treated)
            #expect(found("coupon experiment 券").contains { $0 == "coupon experiment 券 \(treated): on the holdout arm, the hash gives treated" }, "\(found("coupon experiment 券"))")
            // fan4's first order (in the coupon's 30 days) moved out of them.
            try await tamper("UPDATE orders SET paid_at = paid_at + 3456000000 WHERE tenant_id = ? AND order_id = ?", "order-4")
            #expect(found("coupon experiment 券").contains { $0.hasPrefix("coupon experiment 券 ") && $0.contains(" GMV: the log gives") }, "\(found("coupon experiment 券"))")
        }
    }
}
