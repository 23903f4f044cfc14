/// The catalogue of metrics a goal can aim at (docs/operate.md says how each is computed).
public enum GoalMetric: String, CaseIterable, Sendable, Codable {
    /// Percent of followers who are true-love fans.
    case trueLoveShare = "true_love_share"
    /// Percent of fan-group members who bought who bought again.
    case groupRepurchase = "group_repurchase"
    /// Leads first submitted in the last 30 days.
    case leads30d = "leads_30d"
    /// Percent of the last 30 days' conversations answered within the desk's target.
    case dmSLAShare = "dm_sla_share"
    /// GMV (fen) of the last 30 days from buyers who followed the account.
    case gmvFromFans = "gmv_from_fans_30d"
    case followers
    /// The indicators' values (0–100) over the last seven days.
    case popularity, business

    public enum Unit: String, Sendable { case percent, count, fen, score }

    /// Its name in words, for goals named after it.
    public var title: String {
        switch self {
        case .trueLoveShare: "True-love share"
        case .groupRepurchase: "Group repurchase"
        case .leads30d: "Leads a month"
        case .dmSLAShare: "DMs answered on time"
        case .gmvFromFans: "GMV from fans a month"
        case .followers: "Followers"
        case .popularity: "Popularity value"
        case .business: "Business value"
        }
    }

    public var unit: Unit {
        switch self {
        case .trueLoveShare, .groupRepurchase, .dmSLAShare: .percent
        case .leads30d, .followers: .count
        case .gmvFromFans: .fen
        case .popularity, .business: .score
        }
    }

    /// The largest target a goal may set.
    public var maxTarget: Double {
        switch unit {
        case .percent, .score: 100
        case .count: 1_000_000_000
        case .fen: 1e15
        }
    }
}

/// What a task does: a person's work, described; or a change Flywheel makes itself through its
/// own use cases when the task is started (docs/operate.md lists them).
public enum TaskAction: Sendable, Hashable {
    case manual(String)
    /// Sets the entry threshold (a predicate) of the account's fan groups.
    case groupThreshold(String)
    /// Plans a daily live at these hours (the account's time zone) for the next 14 days.
    case liveSchedule(hours: [Int])
    /// Makes this the account's welcome reply to a fan's first DM.
    case welcomeReply(String)

    public var kind: String {
        switch self {
        case .manual: "manual"
        case .groupThreshold: "group_threshold"
        case .liveSchedule: "live_schedule"
        case .welcomeReply: "welcome_reply"
        }
    }

    public var detail: String {
        switch self {
        case .manual(let text), .groupThreshold(let text), .welcomeReply(let text): text
        case .liveSchedule(let hours): hours.map(String.init).joined(separator: ",")
        }
    }

    public var isAutomatic: Bool { kind != "manual" }

    public init?(kind: String, detail: String) {
        switch kind {
        case "manual": self = .manual(detail)
        case "group_threshold": self = .groupThreshold(detail)
        case "welcome_reply": self = .welcomeReply(detail)
        case "live_schedule":
            let hours = detail.split(separator: ",").compactMap { Int($0) }
            guard !hours.isEmpty, hours.allSatisfy({ (0...23).contains($0) }) else { return nil }
            self = .liveSchedule(hours: hours)
        default: return nil
        }
    }
}

public enum GoalState: String, Sendable, CaseIterable, Codable {
    case active, achieved, missed, cancelled
}

/// A business goal: a metric, a target, a deadline, a scope (one account, or the enterprise's
/// whole matrix when `accountId` is nil) and the reward the enterprise grants when it is hit.
public struct Goal: Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var accountId: String?
    public var name: String
    public var metric: GoalMetric
    public var target: Double
    /// The metric when the goal was set.
    public var baseline: Double
    public var deadline: Int64
    /// Points granted to `rewardUserId` (or logged for the team) when the target is hit.
    public var rewardPoints: Int
    public var rewardUserId: String?
    public var state: GoalState
    public var createdAt: Int64
    public var achievedAt: Int64?

    public init(id: String, tenantId: String, accountId: String?, name: String, metric: GoalMetric, target: Double, baseline: Double, deadline: Int64,
                rewardPoints: Int, rewardUserId: String?, createdAt: Int64) {
        self.id = id
        self.tenantId = tenantId
        self.accountId = accountId
        self.name = name
        self.metric = metric
        self.target = target
        self.baseline = baseline
        self.deadline = deadline
        self.rewardPoints = rewardPoints
        self.rewardUserId = rewardUserId
        state = .active
        self.createdAt = createdAt
    }

    public static let nameLength = 1...100
    public static let maxRewardPoints = 1_000_000
}

public enum TaskState: String, Sendable, CaseIterable, Codable {
    case open, done, failed, cancelled
}

/// One concrete step towards a goal, with an owner and a due date; done by a person, or by
/// Flywheel when it is an automatic action.
public struct GoalTask: Sendable, Equatable {
    public var id: String
    public var goalId: String
    public var title: String
    public var action: TaskAction
    /// Why it moves the goal's metric (from the playbook, or the operator's own).
    public var reason: String
    /// A user id.
    public var owner: String?
    public var dueAt: Int64
    /// Points granted to the owner when it is done.
    public var points: Int
    public var state: TaskState
    /// What happened: the automatic action's outcome, or the person's note.
    public var result: String?
    public var metricAtStart: Double
    public var metricAtDone: Double?
    public var createdAt: Int64
    public var doneAt: Int64?

    public init(id: String, goalId: String, title: String, action: TaskAction, reason: String, owner: String?, dueAt: Int64, points: Int,
                metricAtStart: Double, createdAt: Int64) {
        self.id = id
        self.goalId = goalId
        self.title = title
        self.action = action
        self.reason = reason
        self.owner = owner
        self.dueAt = dueAt
        self.points = points
        state = .open
        self.metricAtStart = metricAtStart
        self.createdAt = createdAt
    }

    public static let titleLength = 1...200
    public static let maxPoints = 100_000
}

/// Points granted to a member of staff, for a goal hit or a task done: the reward log.
public struct RewardGrant: Sendable, Equatable {
    public var id: String
    public var goalId: String
    public var taskId: String?
    public var userId: String?
    public var points: Int
    public var reason: String
    public var grantedAt: Int64

    public init(id: String, goalId: String, taskId: String?, userId: String?, points: Int, reason: String, grantedAt: Int64) {
        self.id = id
        self.goalId = goalId
        self.taskId = taskId
        self.userId = userId
        self.points = points
        self.reason = reason
        self.grantedAt = grantedAt
    }
}

/// Where a goal stands: its metric now, the straight line through its daily observations carried
/// to the deadline, and what that says.
public struct GoalProgress: Sendable, Equatable {
    public enum Status: String, Sendable { case achieved, onTrack = "on_track", behind, missed, cancelled }

    public var current: Double
    /// The metric the trend reaches by the deadline; nil with fewer than two days observed.
    public var projected: Double?
    /// Share of the way from the baseline to the target, 0 to 1.
    public var progress: Double
    public var status: Status

    /// `observations`: (day, value), one a day, oldest first; `today` and `deadlineDay` in the
    /// account's (or enterprise's) calendar.
    public static func assess(_ goal: Goal, current: Double, observations: [(day: Int, value: Double)], today: Int, deadlineDay: Int) -> GoalProgress {
        let span = goal.target - goal.baseline
        let progress = span == 0 ? (current >= goal.target ? 1 : 0) : min(1, max(0, (current - goal.baseline) / span))
        let projected = trend(observations).map { $0.value + $0.slope * Double(deadlineDay - $0.lastDay) }
        let status: Status
        switch goal.state {
        case .achieved: status = .achieved
        case .missed: status = .missed
        case .cancelled: status = .cancelled
        case .active:
            if current >= goal.target { status = .achieved }
            else if today > deadlineDay { status = .missed }
            else { status = (projected ?? current) >= goal.target ? .onTrack : .behind }
        }
        return GoalProgress(current: current, projected: projected, progress: progress, status: status)
    }

    /// The least-squares line through the observations: its value at the last day, and its slope a day.
    static func trend(_ points: [(day: Int, value: Double)]) -> (value: Double, slope: Double, lastDay: Int)? {
        guard points.count >= 2, let last = points.last else { return nil }
        let n = Double(points.count)
        let mx = points.map { Double($0.day) }.reduce(0, +) / n, my = points.map(\.value).reduce(0, +) / n
        let sxx = points.map { (Double($0.day) - mx) * (Double($0.day) - mx) }.reduce(0, +)
        guard sxx > 0 else { return nil }
        let slope = points.map { (Double($0.day) - mx) * ($0.value - my) }.reduce(0, +) / sxx
        return (my + slope * (Double(last.day) - mx), slope, last.day)
    }
}
