/// One person across an enterprise's matrix: every account's fan with the same open_id (the
/// accounts of one enterprise share its app, so one person has one open_id in all of them),
/// merged: the best tier, the highest level and intimacy, GMV summed, the earliest arrival and
/// the latest activity.
public struct PersonSummary: Sendable, Equatable {
    public var tenantId: String
    public var openId: String
    public var nickname: String?
    /// Accounts of the scope this person is a fan of.
    public var accounts: Int
    public var tier: Tier
    public var level: Int
    public var intimacy: Int
    /// Fen, summed over the accounts.
    public var gmv: Int64
    public var firstSeenAt: Int64
    /// Where the person first came from: the first domain of the earliest account met.
    public var firstDomain: SourceDomain
    public var lastActiveAt: Int64

    public init(tenantId: String, openId: String, nickname: String?, accounts: Int, tier: Tier, level: Int, intimacy: Int, gmv: Int64,
                firstSeenAt: Int64, firstDomain: SourceDomain, lastActiveAt: Int64) {
        self.tenantId = tenantId
        self.openId = openId
        self.nickname = nickname
        self.accounts = accounts
        self.tier = tier
        self.level = level
        self.intimacy = intimacy
        self.gmv = gmv
        self.firstSeenAt = firstSeenAt
        self.firstDomain = firstDomain
        self.lastActiveAt = lastActiveAt
    }
}

/// A person named across tenants (a provider's console lists several enterprises at once).
public struct PersonKey: Sendable, Hashable {
    public var tenantId: String
    public var openId: String

    public init(tenantId: String, openId: String) {
        self.tenantId = tenantId
        self.openId = openId
    }
}

/// One account's fan: what bulk work acts on.
public struct FanKey: Sendable, Hashable {
    public var accountId: String
    public var openId: String

    public init(accountId: String, openId: String) {
        self.accountId = accountId
        self.openId = openId
    }
}

/// The columns a list of people sorts by, as the console's column headers name them.
public enum PersonSort: String, Sendable, CaseIterable {
    case name, tier, level, intimacy, gmv, source, arrived, lastActive = "last_active", accounts

    /// The natural first direction: names and arrival oldest first, measures highest first.
    public var descendingFirst: Bool { self != .name && self != .source }
}

/// Which people a list or a bulk selection takes: each condition narrows it further.
public enum PeopleCondition: Sendable, Equatable {
    /// One of the person's accounts' fans matches (each account's own calendar).
    case anyAccount(FanPredicate)
    /// The person, merged over the accounts, matches: counters and GMV summed, the best tier,
    /// the highest level, the union of tags, the earliest arrival, the latest activity.
    case merged(FanPredicate)
    /// A member of one account's segment.
    case inSegment(accountId: String, segmentId: String)
}

/// A segment of an enterprise's whole matrix, evaluated when it is read, so it is always current.
public struct MatrixSegment: Sendable, Equatable {
    public var tenantId: String
    public var id: String
    public var name: String
    public var predicate: FanPredicate
    /// Over the merged person, or any one account's fan.
    public var merged: Bool
    public var createdAt: Int64

    public init(tenantId: String, id: String, name: String, predicate: FanPredicate, merged: Bool, createdAt: Int64) {
        self.tenantId = tenantId
        self.id = id
        self.name = name
        self.predicate = predicate
        self.merged = merged
        self.createdAt = createdAt
    }

    public var condition: PeopleCondition { merged ? .merged(predicate) : .anyAccount(predicate) }
}
