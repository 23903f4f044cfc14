import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelSandbox
import FlywheelSimulator
import FlywheelStore
import Foundation

/// Each enterprise's journey in the demo: a fan who writes a DM and has not bought within the
/// hour gets the enterprise's offer by DM, with a 20% holdout, launched at the start of the
/// history. The history runs it as it would have run: the projector enters fans day by day, the
/// runner takes their steps every two simulated hours (quiet hours, the touch budget and the DM
/// rules applying), and what the runner queued is delivered as the sandbox delivers it, the fans
/// reacting by the preset's `Reactions` (a text raises the chance to buy by `buyAfterText`).
extension PresetEnterprise {
    static let journeyOffer: [String: String] = [
        Preset.liquor.name: "感谢关注！今晚8点直播间有粉丝专属价，点主页橱窗也能直接下单。",
        Preset.photoStudio.name: "您好！本周拍摄档期还有空位，预约即送精修 5 张。",
        Preset.careerEducation.name: "您好！试听课本周开放报名，回复「试听」即可预约。",
        Preset.usedCar.name: "您好！您看的车型本周有到店礼，欢迎预约看车。",
    ]

    /// The journey, launched at `start` (the first day of the history).
    func setUpJourney(_ flywheel: Flywheel, start: Int64) async throws {
        var then = flywheel.env
        then.now = { start }
        let journeys = Journeys(Flywheel(then))
        let owner = Principal(tenantId: tenant.id, userId: "demo", keyId: "demo", role: .owner)
        _ = try await Tags(flywheel).define(name: "私信跟进", group: "journey", in: tenant.id, by: owner)
        for account in accounts {
            let made = try await journeys.create(.init(name: "私信跟进", trigger: JourneyTrigger(kind: .event, value: EventKind.dmReceived.rawValue),
                                                       steps: [JourneyStep(kind: .wait, minutes: 60), JourneyStep(kind: .branch, predicate: "orders >= 1", next: 4),
                                                               JourneyStep(kind: .dm, text: Self.journeyOffer[preset.name] ?? "您好！"),
                                                               JourneyStep(kind: .tag, tag: "私信跟进")],
                                                       holdoutPercent: 20),
                                                 accountId: account.id, reachable: [tenant.id], by: owner)
            _ = try await journeys.launch(made.id, reachable: [tenant.id], by: owner)
        }
    }

    /// One simulated day of the journeys: the runner every two hours of `day`, and what it queued
    /// delivered then, with the fans' reactions appended to the log.
    func runJourneys(_ flywheel: Flywheel, day: Int, reactions model: Reactions, delivered: inout [String: Int]) async throws {
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone) ?? .gmt)
        let byId = Dictionary(accounts.map { ($0.id, $0) }) { a, _ in a }
        await flywheel.desk.drain()
        for tick in 1...12 {
            let now = calendar.startOfDay(day) + Int64(tick) * 2 * 3_600_000
            var then = flywheel.env
            then.now = { now }
            try await JourneyRunner(then).drain()
            var finished: [OutboxMessage] = []
            var reactions: [AccountEvent] = []
            for var message in try await flywheel.env.store.claimOutbox(now: now, limit: 10_000) {
                guard message.tenantId == tenant.id, let account = byId[message.accountId] else {
                    // Not this enterprise's: back to the queue, for the dispatcher.
                    message.state = .pending
                    finished.append(message)
                    continue
                }
                message.state = .sent
                message.sentAt = now
                message.platformId = "sbx-history-\(message.id)"
                finished.append(message)
                let key = "\(account.id)|\(message.openId)"
                delivered[key, default: 0] += 1
                for reaction in SandboxAPI.reaction(of: model, account: account.openId, fan: message.openId, nth: delivered[key] ?? 1, to: .text,
                                                    waitedMinutes: 0, receivedToday: 1) {
                    let id = "journey-reaction-\(message.id)"
                    switch reaction {
                    case .buy:
                        reactions.append(AccountEvent(tenantId: tenant.id, accountId: account.id, event: FanEvent(
                            id: id + "-buy", kind: .orderPaid, openId: message.openId, occurredAt: now + 20 * 60_000, channel: .dm,
                            amount: SandboxAPI.price(of: message.openId), ref: "order-journey-\(message.id)")))
                    case .unfollow:
                        reactions.append(AccountEvent(tenantId: tenant.id, accountId: account.id, event: FanEvent(
                            id: id + "-unfollow", kind: .unfollow, openId: message.openId, occurredAt: now + 5 * 60_000, channel: .dm)))
                    default:
                        continue
                    }
                }
            }
            try await flywheel.env.store.finishOutbox(finished)
            _ = try await flywheel.env.store.append(reactions) { _ in }
        }
    }
}
