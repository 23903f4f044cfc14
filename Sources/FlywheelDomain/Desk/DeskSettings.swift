/// The hours a team answers, in the account's time zone.
public struct BusinessHours: Sendable, Equatable {
    /// Open weekdays, 1 (Monday) to 7 (Sunday).
    public var days: Set<Int>
    /// Minutes after midnight the team starts and stops answering (start < end).
    public var start: Int
    public var end: Int

    public init(days: Set<Int>, start: Int, end: Int) {
        self.days = days
        self.start = start
        self.end = end
    }

    /// Whether the hours make sense: at least one day, a start before the end within the day.
    public var isValid: Bool { !days.isEmpty && days.allSatisfy { (1...7).contains($0) } && 0 <= start && start < end && end <= 1_440 }

    /// The open stretch of `day`, if the team works that day.
    func opening(ofDay day: Int, _ calendar: AccountCalendar) -> Range<Int64>? {
        guard days.contains(AccountCalendar.weekday(ofDay: day)) else { return nil }
        let midnight = calendar.startOfDay(day)
        return (midnight + Int64(start) * 60_000)..<(midnight + Int64(end) * 60_000)
    }

    public func isOpen(at ms: Int64, _ calendar: AccountCalendar) -> Bool {
        opening(ofDay: calendar.day(ofMillis: ms), calendar)?.contains(ms) ?? false
    }

    /// The moment `minutes` of open time have passed after `ms`.
    public func adding(minutes: Int, to ms: Int64, _ calendar: AccountCalendar) -> Int64 {
        var left = Int64(minutes) * 60_000
        var day = calendar.day(ofMillis: ms)
        var at = ms
        // Open days come round every week: two weeks always reach the end of any wait a target allows.
        for _ in 0..<((minutes / max(1, end - start) + 1) * 7 + 14) {
            if let open = opening(ofDay: day, calendar), at < open.upperBound {
                at = max(at, open.lowerBound)
                if open.upperBound - at >= left { return at + left }
                left -= open.upperBound - at
            }
            day += 1
            at = calendar.startOfDay(day)
        }
        return at + left
    }
}

/// How the desk hands conversations to agents.
public enum AssignmentPolicy: String, Sendable, CaseIterable, Codable {
    /// Each agent in turn.
    case roundRobin = "round_robin"
    /// The agent with the fewest open conversations.
    case leastLoaded = "least_loaded"
}

/// An account's desk: the reply targets, the team's hours and how work is handed out.
public struct DeskSettings: Sendable, Equatable {
    /// Minutes (of business hours) a fan may wait for the first answer of a person.
    public var firstResponseMinutes: Int
    /// Minutes a fan may wait for each later answer.
    public var nextResponseMinutes: Int
    /// Nil: the team answers at all hours.
    public var businessHours: BusinessHours?
    public var assignment: AssignmentPolicy

    public init(firstResponseMinutes: Int = 30, nextResponseMinutes: Int = 30, businessHours: BusinessHours? = nil,
                assignment: AssignmentPolicy = .roundRobin) {
        self.firstResponseMinutes = firstResponseMinutes
        self.nextResponseMinutes = nextResponseMinutes
        self.businessHours = businessHours
        self.assignment = assignment
    }

    /// The white paper's used-car dealer answers every DM within 30 minutes: the default target.
    public static let standard = DeskSettings()
    public static let targetMinutes = 1...10_080

    public func isOpen(at ms: Int64, _ calendar: AccountCalendar) -> Bool { businessHours?.isOpen(at: ms, calendar) ?? true }

    /// When the answer to a wait that starts at `ms` is due.
    public func due(from ms: Int64, first: Bool, _ calendar: AccountCalendar) -> Int64 {
        let minutes = first ? firstResponseMinutes : nextResponseMinutes
        guard let hours = businessHours else { return ms.saturatingAdd(Int64(minutes) * 60_000) }
        return hours.adding(minutes: minutes, to: ms, calendar)
    }
}

/// A person who answers fans: a user of the tenant, the accounts they serve and how many open
/// conversations they take at once.
public struct Agent: Sendable, Equatable {
    public var userId: String
    public var name: String
    public var capacity: Int
    public var accountIds: Set<String>
    /// Off: no new conversations are handed to them.
    public var available: Bool

    public init(userId: String, name: String, capacity: Int, accountIds: Set<String>, available: Bool) {
        self.userId = userId
        self.name = name
        self.capacity = capacity
        self.accountIds = accountIds
        self.available = available
    }

    public static let capacities = 0...1_000

    /// Who gets the next conversation of `accountId`: among available agents who serve it and
    /// have room (`loads`: their open conversations), the one after `last` in turn, or the least
    /// loaded; nil when nobody has room.
    public static func choose(_ agents: [Agent], for accountId: String, loads: [String: Int], policy: AssignmentPolicy, last: String?) -> Agent? {
        let free = agents.filter { $0.available && $0.accountIds.contains(accountId) && loads[$0.userId, default: 0] < $0.capacity }
            .sorted { $0.userId < $1.userId }
        switch policy {
        case .roundRobin:
            return free.first { agent in last.map { agent.userId > $0 } ?? true } ?? free.first
        case .leastLoaded:
            return free.min { (loads[$0.userId, default: 0], $0.userId) < (loads[$1.userId, default: 0], $1.userId) }
        }
    }
}
