import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// GMV analysis of an account, an enterprise or a service provider's enterprises over a period:
/// fans versus non-fans, old versus new, tier, domain, touchpoint under three attribution
/// models, repurchase and coupons' return (`GMVReport`).
public struct GMVReports: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public struct Query: Sendable {
        public var accountId: String?
        public var tenantId: String?
        public var from: Int64?
        public var to: Int64?
        public var cut: Int64?
        public var windowDays: Int?

        public init(accountId: String?, tenantId: String?, from: Int64?, to: Int64?, cut: Int64?, windowDays: Int?) {
            self.accountId = accountId
            self.tenantId = tenantId
            self.from = from
            self.to = to
            self.cut = cut
            self.windowDays = windowDays
        }
    }

    /// Orders one report reads at most: a longer period is refused, asking for a shorter one.
    public static let maxOrders = 200_000
    public static let windows = 1...90

    /// `reachable`: the tenants the caller may read (its own, and a provider's enterprises). With
    /// neither an account nor a tenant named, the report covers every account of all of them.
    public func report(_ q: Query, reachable: [String], by caller: Principal) async throws -> (report: GMVReport, accounts: [Account]) {
        try caller.authorize(.readGMVReport)
        let now = env.now()
        let to = q.to ?? now
        let from = q.from ?? to - 30 * 86_400_000
        guard from < to, to - from <= 366 * 86_400_000 else { throw UseCaseError.invalid(field: "from", "must be before to, at most 366 days before it") }
        let cut = q.cut ?? from
        let window = q.windowDays ?? 7
        guard Self.windows.contains(window) else { throw UseCaseError.invalid(field: "windowDays", "must be 1 to 90") }
        let accounts = try await ReportScope.accounts(accountId: q.accountId, tenantId: q.tenantId, reachable: reachable, caller: caller, store: env.store)
        let sales = try await self.sales(of: accounts, from: from, to: to, windowDays: window)
        var coupons: [CouponTemplate] = []
        for account in accounts { coupons += try await env.store.coupons(of: account) }
        return (GMVReport.make(sales, coupons: coupons, from: from, to: to, cut: cut, windowDays: window), accounts)
    }

    /// The accounts' orders of the period with their buyers' state and touches: what a report is made of.
    func sales(of accounts: [Account], from: Int64, to: Int64, windowDays window: Int) async throws -> [GMVReport.Sale] {
        var sales: [GMVReport.Sale] = []
        for account in accounts {
            let orders = try await env.store.orders(of: account, openId: nil, from: from, to: to, before: nil, limit: Self.maxOrders + 1 - sales.count)
            guard sales.count + orders.count <= Self.maxOrders else {
                throw UseCaseError.invalid(field: "from", "more than \(Self.maxOrders) orders in the period; choose a shorter one or one account")
            }
            let buyers = Array(Set(orders.map(\.openId)))
            let fans = try await env.store.fans(of: account, openIds: buyers)
            let touches = try await env.store.touches(of: account, openIds: buyers, from: from - Int64(window) * 86_400_000, to: to)
            sales += orders.map { GMVReport.Sale(order: $0, fan: fans[$0.openId], touches: touches[$0.openId] ?? []) }
        }
        return sales
    }
}
