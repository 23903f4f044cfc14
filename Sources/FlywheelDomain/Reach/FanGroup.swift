/// Where a fan group stands on the platform.
public enum GroupState: String, Sendable, CaseIterable, Codable {
    /// Its creation is in the outbox.
    case creating
    case active
    /// The platform refused to create it: the reason is on the group.
    case failed
}

/// A fan group of one account, with the rules Flywheel keeps for it: who may join (a predicate in
/// the one language), who runs it, what greets a new member, what the platform syncs into it.
public struct FanGroup: Sendable, Equatable {
    public var id: String
    public var accountId: String
    public var name: String
    public var description: String
    /// The platform's id, once created.
    public var platformGroupId: String?
    /// The number fans search to apply.
    public var groupNumber: String?
    /// Who may join, e.g. `level >= 9`; nil: anyone who applies.
    public var threshold: String?
    /// What the platform says to a new member.
    public var welcome: String?
    /// Staff open_ids; at most `maxAdmins`.
    public var admins: [String]
    /// The platform posts a reminder in the group when the account goes live.
    public var liveReminder: Bool
    /// The platform shares the account's new works into the group.
    public var shareNewWorks: Bool
    public var state: GroupState
    public var error: String?
    public var createdAt: Int64
    public var version: Int64

    public init(id: String, accountId: String, name: String, description: String, threshold: String?, welcome: String?, admins: [String],
                liveReminder: Bool, shareNewWorks: Bool, createdAt: Int64) {
        self.id = id
        self.accountId = accountId
        self.name = name
        self.description = description
        self.threshold = threshold
        self.welcome = welcome
        self.admins = admins
        self.liveReminder = liveReminder
        self.shareNewWorks = shareNewWorks
        state = .creating
        self.createdAt = createdAt
        version = 0
    }

    /// The platform's limit on a group's admins.
    public static let maxAdmins = 10
    public static let nameLength = 1...30
    public static let descriptionLength = 0...200
    public static let welcomeLength = 1...500
}

/// What became of a fan's application to join a group.
public enum ApplicationState: String, Sendable, CaseIterable, Codable {
    case pending, approved, rejected
    /// Not a group Flywheel manages: decided in the app.
    case manual
}

/// A fan's application to join a group (`enter_group_audit_change`).
public struct JoinApplication: Sendable, Equatable {
    public var applyId: String
    public var accountId: String
    /// The platform's group id.
    public var platformGroupId: String
    public var openId: String
    public var appliedAt: Int64
    public var state: ApplicationState
    public var reason: String?
    public var decidedAt: Int64?

    public init(applyId: String, accountId: String, platformGroupId: String, openId: String, appliedAt: Int64) {
        self.applyId = applyId
        self.accountId = accountId
        self.platformGroupId = platformGroupId
        self.openId = openId
        self.appliedAt = appliedAt
        state = .pending
    }

    /// Decides by the group's threshold: approved when the fan meets it (or there is none),
    /// rejected with the reason otherwise. `fan` is the applicant's state with the account, nil
    /// when the account has never seen it.
    public func decided(by group: FanGroup, threshold: CompiledPredicate?, fan: FanState?, at now: Int64) -> JoinApplication {
        var decided = self
        decided.decidedAt = now
        switch (group.threshold, threshold) {
        case (let text?, let predicate?):
            if let fan, predicate.matches(fan, now: now) {
                decided.state = .approved
                decided.reason = "meets \(text)"
            } else {
                decided.state = .rejected
                decided.reason = fan.map { "does not meet \(text) (level \($0.level), \($0.tier.name))" } ?? "not a fan of the account yet: does not meet \(text)"
            }
        default:
            decided.state = .approved
            decided.reason = "the group has no threshold"
        }
        return decided
    }
}
