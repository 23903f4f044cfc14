import FlywheelDomain
import Foundation

extension Account {
    /// Days as the account counts them. Zones are checked when an account is created; the
    /// default zone only guards data written around the API.
    public var calendar: AccountCalendar {
        AccountCalendar(timeZone: TimeZone(identifier: timeZone) ?? TimeZone(identifier: AccountCalendar.defaultTimeZone) ?? .gmt)
    }
}
