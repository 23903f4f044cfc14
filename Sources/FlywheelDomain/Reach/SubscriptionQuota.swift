import Foundation

/// The platform's limit on an account's subscription posts: at most 8 pushes in a calendar month
/// and 1 a day, both counted in the account's calendar.
public struct SubscriptionQuota: Sendable, Equatable {
    public static let perMonth = 8
    public static let perDay = 1

    /// The days (account-calendar day numbers) that already hold a push: published, scheduled, or
    /// waiting for the operator to publish it by hand.
    public var taken: [Int]

    public init(taken: [Int]) { self.taken = taken }

    /// Whether one more push fits on `day`.
    public func allows(_ day: Int) -> Bool {
        let month = Self.month(of: day)
        return taken.count { $0 == day } < Self.perDay && taken.count { Self.month(of: $0) == month } < Self.perMonth
    }

    /// The first day on or after `day` with room: a full month moves it to the next month's first free day.
    public func nextAllowedDay(from day: Int) -> Int {
        var candidate = day
        // Each refused day is taken or lies in a full month, so this ends within the taken days plus a month.
        while !allows(candidate) { candidate += 1 }
        return candidate
    }

    /// Pushes the month of `day` holds.
    public func used(inMonthOf day: Int) -> Int {
        let month = Self.month(of: day)
        return taken.count { Self.month(of: $0) == month }
    }

    /// `year * 12 + month - 1` of a day number.
    public static func month(of day: Int) -> Int {
        let c = utc.dateComponents([.year, .month], from: Date(timeIntervalSince1970: TimeInterval(day) * 86_400))
        return (c.year ?? 0) * 12 + (c.month ?? 1) - 1
    }

    /// The first day of the month of `day`.
    public static func firstDay(ofMonthOf day: Int) -> Int {
        let c = utc.dateComponents([.year, .month], from: Date(timeIntervalSince1970: TimeInterval(day) * 86_400))
        return Int((utc.date(from: c)?.timeIntervalSince1970 ?? 0) / 86_400)
    }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        return calendar
    }()
}
