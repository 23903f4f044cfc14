import FlywheelDomain
import FlywheelPlatform
import FlywheelStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Shop orders read from the shop platform's order API: every connected shop, every few minutes,
/// the orders changed since the last read (new payments, refunds, cancellations), appended to the
/// account's log as the same events the other doors make, so an order read twice, or pushed as
/// well, is one order.
public final class ShopSync: Service, Sendable {
    let env: FlywheelEnvironment
    /// Access tokens by shop, until shortly before they expire.
    private let tokens = Mutex<[String: (token: String, until: Int64)]>([:])
    private let failures: Counter

    /// Pages one round reads of a shop (200,000 orders); the rest waits for the next round.
    static let maxPages = 2_000

    public init(_ env: FlywheelEnvironment) {
        self.env = env
        failures = Counter(label: "flywheel_shop_sync_failures_total", factory: env.metrics)
    }

    /// One round over the shops that are due; returns how many it read and recorded. One shop's
    /// failure is recorded on it and leaves the others be.
    @discardableResult
    public func runOnce() async -> Int {
        let due: [(tenantId: String, shop: ShopConnection)]
        do {
            due = try await env.store.shopsToSync(before: env.now() - ShopConnection.syncEvery + 1, limit: 20)
        } catch {
            failures.increment()
            env.logger.error("shop sync could not list its shops", metadata: ["error": "\(error)"])
            return 0
        }
        var recorded = 0
        for (tenantId, shop) in due where await sync(shop, tenantId: tenantId) { recorded += 1 }
        return recorded
    }

    /// Reads every shop that is due until none is (tests, the demo).
    public func drain() async {
        while await runOnce() > 0 {}
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            // Looked at every second (one indexed query when nothing is due), so a shutdown waits at most that.
            if await runOnce() == 0 { try? await Task.sleep(for: .seconds(1)) }
        }
    }

    /// Reads the orders changed from a little before where the last sync ended until now, page
    /// by page, and records how far it got, the error included; false when that could not be recorded.
    func sync(_ shop: ShopConnection, tenantId: String) async -> Bool {
        let started = env.now()
        var reached = shop.syncedUntil, read = 0
        var problem: String?
        do {
            guard let account = try await env.store.account(id: shop.accountId, tenantIds: [tenantId]) else { return false }
            let credentials = ShopCredentials(shopId: shop.shopId, appKey: shop.appKey,
                                              appSecret: try env.sealer.open(shop.sealedSecret, context: TokenSealer.context(account, Self.secretColumn)))
            // Window after window of the longest the platform takes, up to now. Within one, each
            // page starts at the last update read (page 0 again), so an order that changes meanwhile
            // moves no other past a page boundary; a page of one second's orders pages on instead.
            var from = max(0, shop.syncedUntil - ShopConnection.overlap) / 1_000, pages = 0
            windows: while from < started / 1_000 {
                let to = min(started / 1_000, from + ShopOrderQuery.maxWindowSeconds)
                var start = from, page = 0
                // Orders of the second a page starts at, read already by the page before.
                var carried: Set<String> = []
                while true {
                    let query = ShopOrderQuery(updatedFrom: start, updatedTo: to, page: page)
                    let answer = try await orders(credentials, of: account, query)
                    let fresh = answer.orders.filter { !carried.contains($0.orderId) }
                    read += fresh.count
                    try await append(fresh, of: account)
                    pages += 1
                    if answer.entries < query.size { break }
                    if let last = answer.orders.last?.updateTime, last > start {
                        // Oldest first: what is read is in up to the last order's update.
                        reached = max(reached, min(last, to) * 1_000)
                        carried = Set(answer.orders.filter { $0.updateTime == last }.map(\.orderId))
                        (start, page) = (last, 0)
                    } else {
                        page += 1
                    }
                    if pages >= Self.maxPages { break windows }
                }
                reached = max(reached, to * 1_000)
                from = to
            }
        } catch {
            failures.increment()
            problem = ErrorText.forAnswer(error)
            env.logger.warning("a shop's orders could not be read; will retry", metadata: ["account": "\(shop.accountId)", "shop": "\(shop.shopId)",
                                                                                         "error": "\(error)"])
        }
        do {
            try await env.store.recordShopSync(of: shop, tenantId: tenantId, syncedUntil: reached, orders: read, error: problem, at: started)
            return true
        } catch {
            env.logger.error("a shop sync could not be recorded", metadata: ["account": "\(shop.accountId)", "error": "\(error)"])
            return false
        }
    }

    /// A page, with the shop's token (asked for again once when the shop refuses it).
    func orders(_ credentials: ShopCredentials, of account: Account, _ query: ShopOrderQuery) async throws -> ShopOrderPage {
        let key = "\(account.tenantId)/\(account.id)/\(credentials.shopId)/\(credentials.appKey)"
        for attempt in 0..<2 {
            let now = env.now()
            let cached = tokens.withLock { $0[key] }
            let token: String
            if let cached, cached.until > now {
                token = cached.token
            } else {
                let fresh = try await env.platform.shopToken(credentials)
                token = fresh.accessToken
                // Renewed a few minutes early, so no call carries a token about to lapse.
                tokens.withLock { $0[key] = (fresh.accessToken, now + max(0, fresh.expiresIn - 300) * 1_000) }
            }
            do {
                return try await env.platform.shopOrders(credentials, token, query)
            } catch PlatformError.invalidToken where attempt == 0 {
                tokens.withLock { $0[key] = nil }
            }
        }
        throw PlatformError.invalidToken
    }

    /// The orders' events into the account's log, refunds already recorded counted against what
    /// is left of each order; an order the log cannot take whole (no buyer, an amount out of
    /// bounds) is left out and logged, the others go in.
    func append(_ orders: [ShopOrder], of account: Account) async throws {
        let recorded = try await env.store.refunds(of: account, orderIds: orders.map(\.orderId))
        var events: [AccountEvent] = []
        for order in orders {
            let made = order.events(recorded: recorded[order.orderId] ?? [:])
            do {
                for event in made { try event.check() }
                events += made.map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }
            } catch {
                env.logger.warning("a shop order was left out", metadata: ["account": "\(account.id)", "order": "\(order.orderId)",
                                                                          "field": "\(error.field)", "error": "\(error.message)"])
            }
        }
        if !events.isEmpty { _ = try await env.store.append(events) { _ in } }
    }

    /// The sealed column the app secret is bound to.
    public static let secretColumn = "shop_secret"
}
