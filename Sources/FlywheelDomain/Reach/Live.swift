/// An account's recurring lives: on these weekdays, at these times of day in the account's zone
/// (the liquor brand's daily 08:00 and 19:00).
public struct LiveSchedule: Sendable, Equatable {
    public var id: String
    public var accountId: String
    public var title: String
    /// ISO weekdays, 1 (Monday) to 7 (Sunday).
    public var weekdays: [Int]
    /// Minutes after midnight.
    public var times: [Int]
    public var durationMinutes: Int
    /// How long before the start bookers and groups are reminded.
    public var reminderMinutes: Int
    public var createdAt: Int64

    public init(id: String, accountId: String, title: String, weekdays: [Int], times: [Int], durationMinutes: Int, reminderMinutes: Int, createdAt: Int64) {
        self.id = id
        self.accountId = accountId
        self.title = title
        self.weekdays = weekdays
        self.times = times
        self.durationMinutes = durationMinutes
        self.reminderMinutes = reminderMinutes
        self.createdAt = createdAt
    }

    public static let durations = 10...720
    public static let reminders = 5...1_440
    /// Lives are planned this many days ahead.
    public static let horizonDays = 14

    /// The lives of `day` (an account-calendar day number), with `startOfDay` its first millisecond.
    public func lives(on day: Int, startOfDay: Int64) -> [Live] {
        guard weekdays.contains(AccountCalendar.weekday(ofDay: day)) else { return [] }
        return times.sorted().map { minute in
            let start = startOfDay + Int64(minute) * 60_000
            return Live(id: "live_\(id)_\(day)_\(minute)", accountId: accountId, scheduleId: id, title: title, startsAt: start,
                        endsAt: start + Int64(durationMinutes) * 60_000, reminderMinutes: reminderMinutes)
        }
    }

    /// `HH:MM` as minutes after midnight.
    public static func minutes(of text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m) else {
            return nil
        }
        return h * 60 + m
    }

    public static func text(ofMinutes minutes: Int) -> String {
        let h = minutes / 60, m = minutes % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }
}

/// One live of an account: planned from a schedule, reminded before it starts, measured from the
/// watch, gift and order events of its hours.
public struct Live: Sendable, Equatable {
    public var id: String
    public var accountId: String
    public var scheduleId: String?
    public var title: String
    public var startsAt: Int64
    public var endsAt: Int64
    public var reminderMinutes: Int
    public var remindedAt: Int64?
    public var cancelled = false

    public init(id: String, accountId: String, scheduleId: String?, title: String, startsAt: Int64, endsAt: Int64, reminderMinutes: Int) {
        self.id = id
        self.accountId = accountId
        self.scheduleId = scheduleId
        self.title = title
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.reminderMinutes = reminderMinutes
    }

    /// When its reminders go out.
    public var remindAt: Int64 { startsAt - Int64(reminderMinutes) * 60_000 }
}

/// Who watched a live, as the seeds read it: fans who followed before the live's day ("old"),
/// fans who followed that day ("new"), and viewers who do not follow.
public enum LiveAudience: String, Sendable, CaseIterable, Codable {
    case oldFan = "old_fan"
    case newFan = "new_fan"
    case nonFan = "non_fan"

    /// The class of a viewer with this state, watching on a day starting at `dayStart`.
    public static func of(_ fan: FanState, dayStart: Int64) -> LiveAudience {
        guard fan.following else { return .nonFan }
        return (fan.followedAt ?? 0) < dayStart ? .oldFan : .newFan
    }
}

/// A live's numbers per audience class.
public struct LiveStats: Sendable, Equatable {
    public struct Audience: Sendable, Equatable {
        public var viewers = 0
        public var minutes: Int64 = 0
        public var gmv: Int64 = 0
        public var gifts: Int64 = 0

        public init() {}

        public var averageMinutes: Double? { viewers == 0 ? nil : Double(minutes) / Double(viewers) }
    }

    public var audiences: [LiveAudience: Audience] = [:]
    public var bookings = 0
    /// Reminders that went out, and those the touch budget or the platform's DM rules held back.
    public var remindersSent = 0
    public var remindersHeld = 0

    public init() {}

    public var gmv: Int64 { audiences.values.reduce(0) { $0 + $1.gmv } }
    /// Fans' (old and new) share of the live's GMV, 0 to 1.
    public var fanShareOfGMV: Double? {
        gmv == 0 ? nil : Double((audiences[.oldFan]?.gmv ?? 0) + (audiences[.newFan]?.gmv ?? 0)) / Double(gmv)
    }
    public var oldFanShareOfGMV: Double? { gmv == 0 ? nil : Double(audiences[.oldFan]?.gmv ?? 0) / Double(gmv) }
}
