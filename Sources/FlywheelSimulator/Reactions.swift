import Foundation

/// How simulated fans react to a DM the account sends them (docs/simulation.md, "Fans answer
/// back"): each number is a chance per message received, and the true effects are these rules.
public struct Reactions: Sendable, Equatable {
    /// Chance a fan writes back to a text.
    public var replyRate: Double
    /// Chance a fan fills in a lead card answered at once; it halves for every `patienceMinutes`
    /// the fan waited for the answer: slower replies lose more leads.
    public var cardRate: Double
    public var patienceMinutes: Double
    /// Chance a fan accepts a fan-group invitation.
    public var joinRate: Double
    /// Chance a fan claims a coupon card.
    public var claimRate: Double
    /// DMs in a day a fan takes before it may unfollow; each one beyond it unfollows with `annoyance`.
    public var tolerance: Int
    public var annoyance: Double
    /// The true effect of a message on buying: the chance a fan pays an order because it received
    /// a text, or a coupon card, on top of what it would have bought anyway. An experiment's
    /// conversion uplift is checked against these.
    public var buyAfterText: Double
    public var buyAfterCoupon: Double

    public init(replyRate: Double, cardRate: Double, patienceMinutes: Double, joinRate: Double, claimRate: Double = 0.5, tolerance: Int, annoyance: Double,
                buyAfterText: Double = 0.03, buyAfterCoupon: Double = 0.06) {
        self.replyRate = replyRate
        self.cardRate = cardRate
        self.patienceMinutes = patienceMinutes
        self.joinRate = joinRate
        self.claimRate = claimRate
        self.tolerance = tolerance
        self.annoyance = annoyance
        self.buyAfterText = buyAfterText
        self.buyAfterCoupon = buyAfterCoupon
    }

    public static let standard = Reactions(replyRate: 0.4, cardRate: 0.5, patienceMinutes: 30, joinRate: 0.6, tolerance: 3, annoyance: 0.3)

    /// What a fan does.
    public enum Reaction: Sendable, Equatable {
        case reply(String)
        case submitLead
        case joinGroup(String)
        case claimCoupon(activityId: String, couponMetaId: String)
        /// Pays an order it would not have paid without the message.
        case buy
        case unfollow
    }

    /// A received message's kind, as the platform's `msg_type`.
    public enum Received: Sendable, Equatable {
        case text, leadCard, groupInvitation(String), coupon(activityId: String, couponMetaId: String), other
    }

    /// The chance a lead card is filled in after the fan waited `minutes` for it.
    public func cardChance(afterWaiting minutes: Double) -> Double {
        cardRate * pow(0.5, max(0, minutes) / max(patienceMinutes, 1))
    }

    /// What the fan does on receiving `message`, after waiting `waitedMinutes` for it, as the
    /// `receivedToday`-th DM of the day; `draw` gives uniform numbers in 0..<1.
    public func react(to message: Received, waitedMinutes: Double, receivedToday: Int, draw: () -> Double) -> [Reaction] {
        var reactions: [Reaction] = []
        switch message {
        case .text where draw() < replyRate: reactions.append(.reply(Self.replies[Int(draw() * Double(Self.replies.count)) % Self.replies.count]))
        case .leadCard where draw() < cardChance(afterWaiting: waitedMinutes): reactions.append(.submitLead)
        case .groupInvitation(let group) where draw() < joinRate: reactions.append(.joinGroup(group))
        case .coupon(let activity, let meta) where draw() < claimRate: reactions.append(.claimCoupon(activityId: activity, couponMetaId: meta))
        default: break
        }
        if receivedToday > tolerance, draw() < annoyance { reactions.append(.unfollow) }
        // Drawn last and whatever else the fan did, so the effect on buying is exactly the rate.
        let buy = draw()
        switch message {
        case .text where buy < buyAfterText: reactions.append(.buy)
        case .coupon where buy < buyAfterCoupon: reactions.append(.buy)
        default: break
        }
        return reactions
    }

    /// Chance a fan opens a subscription post pushed to it, and clicks its tool once opened.
    public static let postOpenRate = 0.4
    public static let postClickRate = 0.3
    /// Touches of every kind (posts, group sends, DMs) in 7 days a fan takes before it may
    /// unfollow: at least this many, and up to four more, the same for the same fan.
    public static let weeklyTolerance = 5

    /// What a fan does with a post pushed to it, as its `touchesThisWeek`-th touch of the week;
    /// `patience` is the fan's own extra tolerance (0 to 4).
    public func react(toPostWithCoupon coupon: (activityId: String, couponMetaId: String)?, touchesThisWeek: Int, patience: Int,
                      draw: () -> Double) -> (opened: Bool, clicked: Bool, reactions: [Reaction]) {
        let opened = draw() < Self.postOpenRate
        let clicked = opened && draw() < Self.postClickRate
        var reactions: [Reaction] = []
        if clicked, let coupon, draw() < claimRate { reactions.append(.claimCoupon(activityId: coupon.activityId, couponMetaId: coupon.couponMetaId)) }
        if tired(touchesThisWeek: touchesThisWeek, patience: patience, draw: draw) { reactions.append(.unfollow) }
        return (opened, clicked, reactions)
    }

    /// Whether a fan touched `touchesThisWeek` times in 7 days has had enough: beyond its
    /// tolerance, each touch unfollows with `annoyance`.
    public func tired(touchesThisWeek: Int, patience: Int, draw: () -> Double) -> Bool {
        touchesThisWeek > Self.weeklyTolerance + patience && draw() < annoyance
    }

    static let replies = ["好的，谢谢", "收到", "多少钱？", "在哪里可以看？", "可以优惠吗", "明天过去看看"]
}
