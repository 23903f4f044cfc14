/// Where Flywheel reached a fan.
public enum Touchpoint: String, Sendable, CaseIterable, Codable {
    case post
    case groupMessage = "group_message"
    case reminder
    case directMessage = "dm"
}

/// How often one fan may be reached across every touchpoint (posts, group sends, reminders,
/// proactive DMs): a fan touched too often unfollows. Checked before anything is queued; a fan
/// over it is held back and counted, never dropped silently.
public struct TouchBudget: Sendable, Equatable, Codable {
    /// Touches in the last 24 hours.
    public var perDay: Int
    /// Touches in the last 7 days.
    public var perWeek: Int

    public init(perDay: Int, perWeek: Int) {
        self.perDay = perDay
        self.perWeek = perWeek
    }

    public static let standard = TouchBudget(perDay: 2, perWeek: 5)
    public static let perDayRange = 1...20
    public static let perWeekRange = 1...100

    public var isValid: Bool { Self.perDayRange.contains(perDay) && Self.perWeekRange.contains(perWeek) && perWeek >= perDay }

    /// Whether a fan with these earlier touches may be touched once more.
    public func admits(_ recent: RecentTouches) -> Bool { recent.lastDay < perDay && recent.lastWeek < perWeek }

    public static let day: Int64 = 86_400_000
    public static let week: Int64 = 7 * day
}

/// A fan's touches in the budget's two windows.
public struct RecentTouches: Sendable, Equatable {
    public var lastDay: Int
    public var lastWeek: Int

    public init(lastDay: Int = 0, lastWeek: Int = 0) {
        self.lastDay = lastDay
        self.lastWeek = lastWeek
    }
}
