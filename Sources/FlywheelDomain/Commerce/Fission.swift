/// A fission campaign of one account (the task-based referral WeCom tools call 任务宝): each fan
/// shares an invite code; a friend who joins through it is the inviter's invite, and may invite in
/// turn; an inviter who brings `threshold` friends is rewarded, once, with the reward coupon.
public struct FissionCampaign: Sendable, Equatable {
    public var id: String
    public var accountId: String
    public var name: String
    /// Invites that earn the reward.
    public var threshold: Int
    /// The coupon given as the reward; nil: a campaign without one (counted only).
    public var rewardCouponId: String?
    public var startsAt: Int64
    public var endsAt: Int64
    /// Share of the fans who ask for an invite code kept from one, to measure the campaign against
    /// (0–50 %, by fan and campaign, fixed at creation).
    public var holdoutPercent = 0
    public var createdAt: Int64

    public init(id: String, accountId: String, name: String, threshold: Int, rewardCouponId: String?, startsAt: Int64, endsAt: Int64, createdAt: Int64) {
        self.id = id
        self.accountId = accountId
        self.name = name
        self.threshold = threshold
        self.rewardCouponId = rewardCouponId
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdAt = createdAt
    }

    public static let thresholds = 1...100

    /// The invite code of a fan in this campaign: the same every time it is asked for, and telling
    /// nothing of the fan's open_id. `digest` is SHA-256 (hex) of its input.
    public func code(of openId: String, digest: (String) -> String) -> String {
        String(digest(id + ":" + openId).prefix(12))
    }

    /// Why a friend may not join through an invite at `now`, or nil.
    public func refusal(inviter: String, invitee: String, inviteeFan: FanState?, at now: Int64) -> FissionRefusal? {
        guard now >= startsAt else { return .notOpen }
        guard now < endsAt else { return .ended }
        guard inviter != invitee else { return .selfInvite }
        // A friend is someone new to the account: who was its fan before the campaign brings nobody.
        if let fan = inviteeFan, fan.firstSeenAt < startsAt { return .notNew }
        return nil
    }
}

/// Why a join through an invite was refused.
public enum FissionRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case notOpen, ended, selfInvite, notNew, unknownCode, alreadyInvited

    public var code: String {
        switch self {
        case .notOpen: "not_open"
        case .ended: "expired"
        case .selfInvite: "self_invite"
        case .notNew: "not_new"
        case .unknownCode: "unknown_code"
        case .alreadyInvited: "already_invited"
        }
    }

    public var description: String {
        switch self {
        case .notOpen: "the campaign has not started"
        case .ended: "the campaign is over"
        case .selfInvite: "a fan cannot invite itself"
        case .notNew: "the friend knew the account before the campaign, so it was brought by no invite"
        case .unknownCode: "no fan of this campaign has that invite code"
        case .alreadyInvited: "the friend joined through an invite already"
        }
    }
}

/// A friend who joined through an invite, and the chain that brought it.
public struct FissionInvite: Sendable, Equatable {
    public var campaignId: String
    public var inviter: String
    public var invitee: String
    /// 1 for a friend of a fan who was invited by nobody, 2 for a friend of that friend, …
    public var depth: Int
    public var at: Int64

    public init(campaignId: String, inviter: String, invitee: String, depth: Int, at: Int64) {
        self.campaignId = campaignId
        self.inviter = inviter
        self.invitee = invitee
        self.depth = depth
        self.at = at
    }
}

/// A campaign's numbers: fans who took a code, those who brought a friend, friends brought,
/// rewards, the chain's depth, and the K-factor: friends brought per fan who took a code (the
/// invitations each sends times the share that join). Above 1, the campaign grows by itself.
public struct FissionStats: Sendable, Equatable {
    public var participants = 0
    public var inviters = 0
    public var invites = 0
    public var rewarded = 0
    public var deepest = 0

    public init() {}

    public var kFactor: Double? { participants > 0 ? Double(invites) / Double(participants) : nil }
}
