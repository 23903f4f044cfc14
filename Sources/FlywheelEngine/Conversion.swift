import FlywheelDomain
import FlywheelStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Conversion tools at work: red envelopes closed when their time is up (what is unclaimed goes
/// back), lotteries drawn when they close, their winners told by DM through the outbox.
public final class Conversion: Service, Sendable {
    let env: FlywheelEnvironment
    private let failures: Counter

    public init(_ env: FlywheelEnvironment) {
        self.env = env
        failures = Counter(label: "flywheel_conversion_failures_total", factory: env.metrics)
    }

    /// One round; returns how many envelopes and lotteries it closed. One lottery's failure is
    /// logged and leaves the others be.
    @discardableResult
    public func runOnce() async -> Int {
        var done = 0
        do {
            done += try await env.store.expireRedEnvelopes(now: env.now())
            for (tenantId, lottery) in try await env.store.lotteriesToDraw(now: env.now(), limit: 20) {
                do {
                    guard let account = try await env.store.account(id: lottery.accountId, tenantIds: [tenantId]) else { continue }
                    try await draw(lottery, of: account)
                    done += 1
                } catch StoreError.refused(.changedMeanwhile) {
                    continue
                } catch {
                    failures.increment()
                    env.logger.error("a lottery could not be drawn; will retry", metadata: ["lottery": "\(lottery.id)", "error": "\(error)"])
                }
            }
        } catch {
            failures.increment()
            env.logger.error("conversion could not list its work", metadata: ["error": "\(error)"])
        }
        return done
    }

    /// Handles everything due until nothing is left (tests, the demo).
    public func drain() async {
        while await runOnce() > 0 {}
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if await runOnce() == 0 { try? await Task.sleep(for: .seconds(1)) }
        }
    }

    /// Draws the winners from the lottery's seed and entries, and tells each by DM where the
    /// platform allows it (the fan granted messages, fewer than three today); the others are the
    /// operator's to tell in the app. A prize notice is owed to the fan, so the touch budget,
    /// which paces marketing, does not hold it back.
    func draw(_ lottery: Lottery, of account: Account) async throws {
        let now = env.now()
        let drawn = LotteryDraw.winners(seed: lottery.seed, entries: try await env.store.lotteryEntries(id: lottery.id, of: account), prizes: lottery.prizes)
        let dmsAllowed = try await env.store.tokens(of: account).map { Desk.allowsDirectMessages($0.scope) } ?? false
        let today = account.calendar.startOfDay(account.calendar.day(ofMillis: now))
        var winners: [LotteryWinner] = [], messages: [DeskMessage] = [], outbox: [OutboxMessage] = []
        for (openId, prize) in drawn {
            let conversation = try await env.store.conversation(of: account, openId: openId)
            var told = dmsAllowed && conversation?.mayMessage(at: now) == true
            if told { told = try await env.store.proactiveMessages(of: account, openId: openId, since: today) < Conversation.proactivePerDay }
            if told {
                let text = "恭喜您在「\(lottery.name)」中抽中「\(prize)」！我们会尽快与您联系"
                let (message, dm) = Desk.queue(.text(String(text.prefix(MessageContent.maxText))), to: openId, of: account, author: .auto,
                                               authorId: "lottery:\(lottery.id)", replyTo: nil, replyBy: nil, key: "lottery:\(lottery.id):\(openId)",
                                               id: env.newId("out"), at: now)
                messages.append(message)
                outbox.append(dm)
            }
            winners.append(LotteryWinner(openId: openId, prize: prize, notified: told))
        }
        try await env.store.recordDraw(of: lottery, tenantId: account.tenantId, at: now, winners: winners, messages: messages, outbox: outbox)
    }
}

extension RedEnvelope {
    /// Gives the fan the envelope's next share at `now`: the one claim, whether the fan asked
    /// (`RedEnvelopes.claim`) or a journey's step gave it; throws the `ClaimRefusal` that stops it.
    public func claim(for openId: String, of account: Account, key: String?, store: any Store, at now: Int64) async throws -> EnvelopeClaim {
        let fan = try await store.fan(of: account, openId: openId)
        let compiled = try audience.map { try FanPredicate.parse($0).compile(calendar: account.calendar) }
        if let refusal = refusal(for: fan, audience: compiled, at: now) { throw refusal }
        try await CampaignHoldout.keep(id, percent: holdoutPercent, openId: openId, of: account, store: store, at: now)
        return try await store.claimRedEnvelope(id: id, openId: openId, at: now, key: key, of: account)
    }
}

/// A campaign's holdout, applied to a fan who asked for it and may have it: a fan on the holdout
/// arm is recorded (what the campaign is measured against) and refused with `ClaimRefusal.heldOut`.
public enum CampaignHoldout {
    public static func keep(_ campaignId: String, percent: Int, openId: String, of account: Account, store: any Store, at now: Int64) async throws {
        guard percent > 0,
              ExperimentArm.of(openId, experiment: campaignId, holdoutPercent: percent, tenantId: account.tenantId, controlPercent: 0) == .holdout else { return }
        try await store.holdOut(campaignId: campaignId, openId: openId, at: now, of: account)
        throw ClaimRefusal.heldOut
    }

    /// A post's or a campaign's experiment over the `days` after each fan's entry (or holdout);
    /// nil without a holdout.
    public static func report(_ kind: CampaignKind, id: String, name: String, percent: Int, days: Int = ExperimentReport.windowDays, of account: Account,
                              store: any Store) async throws -> ExperimentReport? {
        guard percent > 0 else { return nil }
        let fans = try await store.campaignExperimentFans(kind, id: id, of: account, window: Int64(days) * 86_400_000)
        return ExperimentReport(experimentId: id, name: name, holdoutPercent: percent, windowDays: days, arms: fans.arms)
    }
}
