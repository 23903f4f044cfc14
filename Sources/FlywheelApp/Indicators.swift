import FlywheelDomain
import FlywheelEngine
import FlywheelStore

/// Popularity value and business value per day, of an account, an enterprise's matrix or every
/// account the caller reaches, each input against its industry's references (docs/operate.md).
public struct Indicators: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public struct Series: Sendable {
        public var references: IndicatorReferences
        /// One a day, oldest first; the last is today, still going.
        public var values: [IndicatorValues]

        /// What moved each indicator over the last seven days: input, points.
        public var popularityDrivers: [(name: String, points: Double)] { drivers(\.popularityInputs) }
        public var businessDrivers: [(name: String, points: Double)] { drivers(\.businessInputs) }

        func drivers(_ inputs: KeyPath<IndicatorValues, [IndicatorInput]>) -> [(name: String, points: Double)] {
            guard values.count > IndicatorValues.window, let last = values.last else { return [] }
            return IndicatorValues.drivers(last[keyPath: inputs], since: values[values.count - 1 - IndicatorValues.window][keyPath: inputs])
        }
    }

    public static let days = 8...180

    public func report(accountId: String?, tenantId: String?, days: Int, reachable: [String], by caller: Principal) async throws
        -> (total: Series, accounts: [(account: Account, series: Series)]) {
        try caller.authorize(.readIndicators)
        guard Self.days.contains(days) else { throw UseCaseError.invalid(field: "days", "must be \(Self.days.lowerBound) to \(Self.days.upperBound)") }
        let accounts = try await ReportScope.accounts(accountId: accountId, tenantId: tenantId, reachable: reachable, caller: caller, store: env.store)
        return try await report(of: accounts, days: days)
    }

    /// Without authorizing: for callers that did (the console, goals, reviews).
    func report(of accounts: [Account], days: Int) async throws -> (total: Series, accounts: [(account: Account, series: Series)]) {
        var industries: [String: Industry?] = [:]
        var inputs: [[IndicatorDay]] = [], series: [(account: Account, series: Series)] = []
        let now = env.now()
        for account in accounts {
            if industries[account.tenantId] == nil { industries[account.tenantId] = try await env.store.tenant(id: account.tenantId)?.industry }
            let references = industries[account.tenantId]??.playbook.references ?? .general
            let today = account.calendar.day(ofMillis: now)
            let daily = try await env.store.indicatorDays(of: account, days: today - days - IndicatorValues.window + 2...today)
            inputs.append(daily)
            series.append((account, Series(references: references, values: IndicatorValues.series(daily, references: references))))
        }
        let kinds = Set(industries.values.map { $0?.rawValue })
        let references = kinds.count == 1 ? (industries.values.first.flatMap { $0 }?.playbook.references ?? .general) : .general
        let summed = IndicatorDay.sum(inputs)
        return (Series(references: references, values: IndicatorValues.series(summed, references: references)), series)
    }
}
