import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// The account's homepage: its set-up as a checklist (what Flywheel can see for itself, and what
/// the operator ticks after doing it in the app), and where its visits come from.
public struct Homepage: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public struct Item: Sendable, Equatable {
        public var item: HomepageItem
        public var done: Bool
        /// `detected` when Flywheel saw it (an active group, a live schedule, a homepage lead),
        /// `ticked` when the operator marked it, `missing` otherwise.
        public var source: String
    }

    public struct Visits: Sendable, Equatable {
        public var channel: Channel
        public var domain: SourceDomain
        public var visits: Int
        /// Of all the homepage's visits in the window, 0 to 1.
        public var share: Double
    }

    public func read(of account: Account, days: Int, by caller: Principal) async throws -> (items: [Item], visits: [Visits]) {
        try caller.authorize(.readHomepage)
        guard (1...366).contains(days) else { throw UseCaseError.invalid(field: "days", "must be 1 to 366") }
        let now = env.now()
        let ticked = try await env.store.homepageItems(of: account)
        let groups = try await env.store.groups(of: account)
        let schedules = try await env.store.liveSchedules(of: account)
        let upcoming = try await env.store.lives(of: account, from: now, to: now + 14 * 86_400_000)
        let leads = try await env.store.leadsSubmitted(tenantId: account.tenantId, from: now - 90 * 86_400_000, to: now + 1)
        let detected: [HomepageItem: Bool] = [
            .groupEntry: groups.contains { $0.state == .active },
            .liveSchedule: !schedules.isEmpty || upcoming.contains { !$0.cancelled },
            .leadCard: leads.contains { $0.accountId == account.id && $0.channel == .homepage },
        ]
        let items = HomepageItem.allCases.map { item -> Item in
            if detected[item] == true { return Item(item: item, done: true, source: "detected") }
            if ticked[item] == true { return Item(item: item, done: true, source: "ticked") }
            return Item(item: item, done: false, source: "missing")
        }
        let today = account.calendar.day(ofMillis: now)
        let rows = try await env.store.homepageVisits(of: account, days: (today - days + 1)...today)
        let total = max(1, rows.reduce(0) { $0 + $1.visits })
        return (items, rows.map { Visits(channel: $0.channel, domain: $0.domain, visits: $0.visits, share: Double($0.visits) / Double(total)) })
    }

    /// Ticks (or unticks) the items the operator set up in the app.
    public func change(_ items: [String: Bool], of account: Account, by caller: Principal) async throws {
        try caller.authorize(.changeHomepage)
        guard !items.isEmpty, items.count <= HomepageItem.allCases.count else { throw UseCaseError.invalid(field: "items", "name at least one checklist item") }
        var parsed: [HomepageItem: Bool] = [:]
        for (name, done) in items {
            guard let item = HomepageItem(rawValue: name) else {
                throw UseCaseError.invalid(field: "items.\(String(name.prefix(50)))", "must be one of \(HomepageItem.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            parsed[item] = done
        }
        try await env.store.setHomepageItems(parsed, of: account, at: env.now(), audit: env.audit(tenantId: account.tenantId, actor: caller.actor,
                                                                                                 action: "homepage.change", target: account.id))
    }
}
