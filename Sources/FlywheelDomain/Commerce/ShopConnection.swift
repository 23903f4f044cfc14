/// An account's shop on the shop platform: the self-use app that reads its orders, and how far
/// they are synced. The shop's orders are the account's: a shop serves one account here.
public struct ShopConnection: Sendable, Equatable {
    public var accountId: String
    public var shopId: String
    public var appKey: String
    /// The app's secret, sealed: it signs every call and is never shown.
    public var sealedSecret: String
    /// Orders updated before this time are in.
    public var syncedUntil: Int64
    /// Orders read from the shop so far: one changed, or read again in the overlap, counts again.
    public var ordersSynced: Int64
    public var lastSyncAt: Int64?
    /// Why the last sync failed; nil after one that did not.
    public var lastError: String?
    public var connectedAt: Int64

    public init(accountId: String, shopId: String, appKey: String, sealedSecret: String, syncedUntil: Int64, ordersSynced: Int64 = 0, lastSyncAt: Int64? = nil,
                lastError: String? = nil, connectedAt: Int64) {
        self.accountId = accountId
        self.shopId = shopId
        self.appKey = appKey
        self.sealedSecret = sealedSecret
        self.syncedUntil = syncedUntil
        self.ordersSynced = ordersSynced
        self.lastSyncAt = lastSyncAt
        self.lastError = lastError
        self.connectedAt = connectedAt
    }

    /// A new connection reads back this far: the platform's longest window.
    public static let backfill: Int64 = 90 * 86_400_000
    /// How often a shop is read.
    public static let syncEvery: Int64 = 5 * 60_000
    /// Each sync reads again what changed this long before the last one ended: an order the shop
    /// recorded late is not missed (what is read twice is one order by its id).
    public static let overlap: Int64 = 10 * 60_000
}
