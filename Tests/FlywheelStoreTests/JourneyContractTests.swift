import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelStore
import FlywheelTestSupport
import Foundation
import Synchronization
import Testing

/// A clock the test moves.
final class JourneyClock: Sendable {
    private let ms: Mutex<Int64>
    init(_ ms: Int64) { self.ms = Mutex(ms) }
    var now: Int64 { ms.withLock { $0 } }
    func advance(_ by: Int64) { ms.withLock { $0 += by } }
}

/// Journeys on both stores, with the real projector and runner: fans enter as the trigger is
/// projected (after launch only, once unless re-entry is allowed), the holdout and the global
/// control get nothing, steps send through the desk's outbox within quiet hours and the touch
/// budget, every step is on the fan's timeline and in the change feed, edits are new versions.
@Suite struct JourneyContractTests {
    static let tenOClock: Int64 = 1_793_584_800_000  // 2026-11-02 10:00 in Shanghai

    static func journey(_ f: StoreFixture, at: Int64) -> Journey {
        Journey(tenantId: f.account.tenantId, accountId: f.account.id, id: "jrn-welcome", name: "欢迎旅程", trigger: JourneyTrigger(kind: .event, value: "follow"),
                steps: [JourneyStep(kind: .dm, text: "欢迎关注"), JourneyStep(kind: .wait, minutes: 60),
                        JourneyStep(kind: .branch, predicate: "orders >= 1", next: 5, otherwise: 4),
                        JourneyStep(kind: .coupon, activityId: "act-1", couponMetaId: "meta-1"),
                        JourneyStep(kind: .tag, tag: "旅程完成"), JourneyStep(kind: .webhook, label: "welcomed")],
                createdAt: at)
    }

    @Test(arguments: StoreKind.allCases)
    func fansEnterFromTheProjectorAndOnlyTheTreatedAreReached(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let clock = JourneyClock(Self.tenOClock)
        var env = f.env
        env.now = { clock.now }
        env.sealer = try TokenSealer(secret: TokenSealer.generateSecret())
        let flywheel = Flywheel(env)
        let store = f.store
        let sealed = try env.sealer.seal(AccountToken(openId: f.account.openId, accessToken: "act.x", refreshToken: "rft.x", scope: "im.direct_message",
                                                      accessExpiresIn: 86_400 * 30, refreshExpiresIn: nil), of: f.account, now: clock.now)
        try await store.saveTokens(sealed, of: f.account, audit: env.audit(tenantId: f.account.tenantId, actor: "t", action: "account.connect", target: f.account.id))

        #expect(try await store.controlPercent(tenantId: f.account.tenantId) == 5)
        try await store.setControlPercent(5, tenantId: f.account.tenantId, audit: env.audit(tenantId: f.account.tenantId, actor: "t", action: "experiments.control",
                                                                                          target: f.account.tenantId))
        var journey = Self.journey(f, at: clock.now)
        try await store.createJourney(journey, audit: env.audit(tenantId: journey.tenantId, actor: "t", action: "journey.create", target: journey.id))
        #expect(try await store.journeys(tenantId: f.account.tenantId, accountIds: nil) == [journey])
        #expect(try await store.journeys(tenantId: f.account.tenantId, accountIds: ["another"]).isEmpty)
        // A follow before launch does not enter.
        _ = try await store.append(f.events([FanEvent(id: "early", kind: .follow, openId: "fan-early", occurredAt: clock.now - 1_000, channel: .search)])) { _ in }
        await flywheel.projector.drain()
        try await store.setJourneyState(journey.id, tenantId: journey.tenantId, state: .active, launchedAt: clock.now, firesAt: nil,
                                        audit: env.audit(tenantId: journey.tenantId, actor: "t", action: "journey.launch", target: journey.id))
        journey.state = .active
        journey.launchedAt = clock.now

        // 300 fans follow and write a DM; every third has paid an order.
        let fans = (0..<300).map { "fan-\($0)" }
        var events: [FanEvent] = []
        for (i, fan) in fans.enumerated() {
            events.append(FanEvent(id: "f\(i)", kind: .follow, openId: fan, occurredAt: clock.now, channel: .search))
            events.append(FanEvent(id: "m\(i)", kind: .dmReceived, openId: fan, occurredAt: clock.now, channel: .dm, attributes: ["text": "你好", "message_id": "pm-\(i)"]))
            if i % 3 == 0 { events.append(FanEvent(id: "o\(i)", kind: .orderPaid, openId: fan, occurredAt: clock.now, channel: .homepage, amount: 19_900, ref: "order-\(i)")) }
        }
        _ = try await store.append(f.events(events)) { _ in }
        await flywheel.projector.drain()
        await flywheel.desk.drain()
        let arms = Dictionary(grouping: fans) {
            ExperimentArm.of($0, experiment: journey.id, holdoutPercent: 10, tenantId: f.account.tenantId, controlPercent: 5)
        }
        let treated = arms[.treated] ?? [], holdout = arms[.holdout] ?? [], control = arms[.control] ?? []
        // About 10 % and 5 % of 300 (28 and 15); the tenant's id, new each run, draws the control: bounds five deviations wide.
        #expect(holdout.count > 3 && holdout.count < 55 && control.count > 0 && control.count < 35, "10 % and 5 % of 300")
        var progress = try await store.journeyProgress(journey.id, tenantId: journey.tenantId)
        #expect(progress.entered(.treated) == treated.count && progress.entered(.holdout) == holdout.count && progress.entered(.control) == control.count,
                "every fan entered once, on its arm; the fan who followed before launch did not")
        #expect(try await store.dueJourneyRuns(now: clock.now, limit: 1_000).count == treated.count, "only the treated have steps to take")

        try await flywheel.journeys.drain()
        #expect(try await store.outboxCounts() == [.pending: treated.count], "one welcome DM to each treated fan, none to the holdout or the control")
        let someone = try #require(treated.first), heldOut = try #require(holdout.first)
        #expect(try await store.journeySteps(of: f.account, openId: someone, limit: 10).map { "\($0.step) \($0.kind) \($0.outcome)" } == ["1 dm sent", "0 entered treated"])
        #expect(try await store.journeySteps(of: f.account, openId: heldOut, limit: 10).map { "\($0.step) \($0.kind) \($0.outcome)" } == ["0 entered holdout"])

        // Following again does not enter again: the journey allows no re-entry.
        _ = try await store.append(f.events([FanEvent(id: "again", kind: .follow, openId: someone, occurredAt: clock.now + 1, channel: .search)])) { _ in }
        await flywheel.projector.drain()
        #expect(try await store.journeyProgress(journey.id, tenantId: journey.tenantId).entered(.treated) == treated.count)

        // Nothing moves before the hour is up; then buyers are tagged, the others get a coupon first.
        try await flywheel.journeys.drain()
        #expect(try await store.outboxCounts() == [.pending: treated.count])
        clock.advance(61 * 60_000)
        try await flywheel.journeys.drain()
        let buyers = treated.filter { Int($0.dropFirst(4))! % 3 == 0 }
        #expect(try await store.outboxCounts() == [.pending: treated.count * 2 - buyers.count], "a coupon to each treated fan who has not bought")
        await flywheel.projector.drain()
        let tagged = try await f.fans().values.filter { $0.tags.contains("旅程完成") }.map(\.openId)
        #expect(Set(tagged) == Set(treated))
        progress = try await store.journeyProgress(journey.id, tenantId: journey.tenantId)
        #expect(progress.runs[.treated]?[.done] == treated.count)
        #expect(progress.steps.contains { $0.step == 3 && $0.outcome == "yes" && $0.fans == buyers.count })
        let feed = try await store.changes(tenantIds: [f.account.tenantId], after: 0, kinds: [.journeyStep], accountId: nil, limit: 5_000)
        #expect(feed.filter { $0.data["kind"] == "webhook" && $0.data["outcome"] == "welcomed" }.count == treated.count)

        // The report's inputs: each fan's first entry, its orders in the window, on its arm.
        let outcomes = try await store.experimentFans(journey.id, tenantId: journey.tenantId, accountId: f.account.id, window: 30 * 86_400_000)
        #expect(outcomes.count == fans.count)
        #expect(outcomes.filter { $0.arm == .holdout && $0.orders > 0 }.count == holdout.filter { Int($0.dropFirst(4))! % 3 == 0 }.count)
        #expect(outcomes.filter { $0.orders > 0 }.allSatisfy { $0.gmv == 19_900 })

        // An edit is a new version: v1 stays readable as it was.
        var edited = journey
        edited.version = 2
        edited.steps[0].text = "欢迎你"
        try await store.reviseJourney(edited, from: 1, audit: env.audit(tenantId: journey.tenantId, actor: "t", action: "journey.change", target: journey.id))
        #expect(try await store.journey(journey.id, tenantId: journey.tenantId, version: 1)?.steps[0].text == "欢迎关注")
        #expect(try await store.journey(journey.id, tenantId: journey.tenantId, version: nil)?.version == 2)
        await #expect(throws: StoreError.self) {
            try await store.reviseJourney(edited, from: 1, audit: env.audit(tenantId: journey.tenantId, actor: "t", action: "journey.change", target: journey.id))
        }

        // Quiet hours: a fan who follows at 23:30 gets its DM at 08:00.
        clock.advance(13 * 3_600_000 + 29 * 60_000)  // 23:30
        let lateFan = try #require((0..<50).map { "fan-late-\($0)" }.first {
            ExperimentArm.of($0, experiment: journey.id, holdoutPercent: 10, tenantId: f.account.tenantId, controlPercent: 5) == .treated
        })
        _ = try await store.append(f.events([
            FanEvent(id: "late-m", kind: .dmReceived, openId: lateFan, occurredAt: clock.now, channel: .dm, attributes: ["text": "在吗", "message_id": "pm-late"]),
            FanEvent(id: "late-f", kind: .follow, openId: lateFan, occurredAt: clock.now, channel: .search),
        ])) { _ in }
        await flywheel.projector.drain()
        await flywheel.desk.drain()
        try await flywheel.journeys.drain()
        let late = try #require(try await store.dueJourneyRuns(now: Int64.max, limit: 1_000).first { $0.run.openId == lateFan })
        #expect(late.run.version == 2 && late.run.step == 1 && late.run.dueAt == Self.tenOClock + 22 * 3_600_000, "08:00 the next day")
        // A run moved meanwhile is not moved again from a stale read.
        var stale = late.run
        stale.revision += 7
        #expect(try await store.advanceJourneyRun(JourneyAdvance(tenantId: late.tenantId, accountId: late.accountId, run: stale, steps: [])) == false)
    }

    /// A tier trigger, a wait for an event woken by the projector or timed out, re-entry after the
    /// end, and a pause that stops both entering and moving.
    @Test(arguments: StoreKind.allCases)
    func waitsForEventsAreWokenByTheProjectorAndFansReenterOnlyWhenAllowed(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let clock = JourneyClock(Self.tenOClock)
        var env = f.env
        env.now = { clock.now }
        let flywheel = Flywheel(env)
        let store = f.store
        let journey = Journey(tenantId: f.account.tenantId, accountId: f.account.id, id: "jrn-booking", name: "直播预约", trigger: JourneyTrigger(kind: .tier, value: "true_love"),
                              steps: [JourneyStep(kind: .waitForEvent, minutes: 60, event: "live_booked", otherwise: 3), JourneyStep(kind: .tag, tag: "booked", next: 4),
                                      JourneyStep(kind: .tag, tag: "not booked")],
                              reentry: true, state: .active, createdAt: clock.now, launchedAt: clock.now)
        try await store.createJourney(journey, audit: env.audit(tenantId: journey.tenantId, actor: "t", action: "journey.create", target: journey.id))
        let treated = (0..<100).map { "fan-\($0)" }.filter {
            ExperimentArm.of($0, experiment: journey.id, holdoutPercent: 10, tenantId: f.account.tenantId, controlPercent: 5) == .treated
        }
        let (a, b, c) = (treated[0], treated[1], treated[2])
        var n = 0
        func happen(_ kind: EventKind, _ fan: String, amount: Int64 = 0) async throws {
            n += 1
            _ = try await store.append(f.events([FanEvent(id: "e\(n)", kind: kind, openId: fan, occurredAt: clock.now, channel: .homepage, amount: amount,
                                                          ref: kind == .orderPaid ? "order-\(n)" : nil)])) { _ in }
            await flywheel.projector.drain()
        }
        // Two orders kept and following: true-love; both enter and wait for a live booking.
        for fan in [a, b] {
            try await happen(.follow, fan)
            try await happen(.orderPaid, fan, amount: 9_900)
            try await happen(.orderPaid, fan, amount: 9_900)
        }
        // The raw log as stored, in order and paged (what `flywheel verify` reads).
        let logged = try await store.loggedEvents(of: f.account, after: 0, limit: 4)
        #expect(logged.map(\.event.id) == ["e1", "e2", "e3", "e4"] && logged.map(\.event.openId) == [a, a, a, b])
        #expect(try await store.loggedEvents(of: f.account, after: logged[1].seq, limit: 2).map(\.event.id) == ["e3", "e4"])
        try await flywheel.journeys.drain()
        #expect(try await store.dueJourneyRuns(now: clock.now, limit: 10).isEmpty, "both wait")
        clock.advance(10 * 60_000)
        try await happen(.liveBooked, a)
        try await flywheel.journeys.drain()
        clock.advance(51 * 60_000)
        try await flywheel.journeys.drain()
        await flywheel.projector.drain()
        let fans = try await f.fans()
        #expect(fans[a]?.tags.contains("booked") == true && fans[a]?.tags.contains("not booked") == false, "the booking woke it at once")
        #expect(fans[b]?.tags.contains("not booked") == true && fans[b]?.tags.contains("booked") == false, "the hour ran out")
        #expect(try await store.journeySteps(of: f.account, openId: a, limit: 10).map { "\($0.step) \($0.outcome)" } == ["2 tagged booked", "1 event came", "0 treated"])

        // Unfollowing drops b to potential; following again makes it true-love again: it enters again, its first run being over.
        try await happen(.unfollow, b)
        try await happen(.follow, b)
        #expect(try await store.journeySteps(of: f.account, openId: b, limit: 10).filter { $0.step == 0 }.count == 2)

        // Paused: c reaches true-love and does not enter; b's new run does not move.
        try await store.setJourneyState(journey.id, tenantId: journey.tenantId, state: .paused, launchedAt: nil, firesAt: nil,
                                        audit: env.audit(tenantId: journey.tenantId, actor: "t", action: "journey.pause", target: journey.id))
        try await happen(.follow, c)
        try await happen(.orderPaid, c, amount: 9_900)
        try await happen(.orderPaid, c, amount: 9_900)
        clock.advance(2 * 3_600_000)
        #expect(try await store.dueJourneyRuns(now: clock.now, limit: 10).isEmpty)
        #expect(try await store.journeySteps(of: f.account, openId: c, limit: 10).isEmpty)
        #expect(try await store.journeyProgress(journey.id, tenantId: journey.tenantId).runs[.treated]?[.waiting] == 1)
    }

    /// A lead task: a follow-up on the fan's newest lead for its assignee; a fan with no lead is passed over.
    @Test(arguments: StoreKind.allCases)
    func aLeadTaskFollowsUpTheFansLead(_ kind: StoreKind) async throws {
        let f = try await StoreFixture(kind)
        let clock = JourneyClock(Self.tenOClock)
        var env = f.env
        env.now = { clock.now }
        let flywheel = Flywheel(env)
        let journey = Journey(tenantId: f.account.tenantId, accountId: f.account.id, id: "jrn-call", name: "回访", trigger: JourneyTrigger(kind: .event, value: "dm_received"),
                              steps: [JourneyStep(kind: .leadTask, minutes: 60, text: "电话回访")], holdoutPercent: 0, controlPercent: 0, state: .active,
                              createdAt: clock.now, launchedAt: clock.now)
        try await f.store.createJourney(journey, audit: env.audit(tenantId: journey.tenantId, actor: "t", action: "journey.create", target: journey.id))
        _ = try await f.store.append(f.events([
            FanEvent(id: "lead", kind: .leadSubmitted, openId: "fan-lead", occurredAt: clock.now, channel: .homepage, attributes: ["name": "王", "phone": "13800138000"]),
            FanEvent(id: "m1", kind: .dmReceived, openId: "fan-lead", occurredAt: clock.now, channel: .dm, attributes: ["text": "在吗", "message_id": "pm-1"]),
            FanEvent(id: "m2", kind: .dmReceived, openId: "fan-none", occurredAt: clock.now, channel: .dm, attributes: ["text": "在吗", "message_id": "pm-2"]),
        ])) { _ in }
        await flywheel.projector.drain()
        try await flywheel.journeys.drain()
        var filter = LeadFilter()
        filter.openId = "fan-lead"
        let lead = try #require(try await f.store.leads(tenantId: f.account.tenantId, filter: filter, cursor: nil, limit: 5).items.first)
        let tasks = try await f.store.followUps(tenantId: f.account.tenantId, leadId: lead.id, dueBefore: nil, assignee: nil, limit: 10)
        #expect(tasks.map(\.note) == ["电话回访"] && tasks.first?.dueAt == clock.now + 3_600_000)
        #expect(try await f.store.journeySteps(of: f.account, openId: "fan-none", limit: 5).first?.outcome == "skipped: the fan has left no lead")
        filter.openId = "fan-none"
        #expect(try await f.store.leads(tenantId: f.account.tenantId, filter: filter, cursor: nil, limit: 5).items.isEmpty)
    }
}
