import FlywheelDomain

/// Shop connections: which shop each account's orders are read from, and how far.
public protocol ShopStore: Sendable {
    /// Connects the account's shop, or replaces its app; a new shop is read back from `syncedUntil`,
    /// the same shop keeps its progress.
    func connectShop(_ shop: ShopConnection, of account: Account, audit: AuditEntry) async throws
    func shopConnection(of account: Account) async throws -> ShopConnection?
    /// False when the account had no shop.
    func disconnectShop(of account: Account, audit: AuditEntry) async throws -> Bool
    /// Shops not read since `before`, least recently read first, with their tenant.
    func shopsToSync(before: Int64, limit: Int) async throws -> [(tenantId: String, shop: ShopConnection)]
    /// Records a sync: how far it got (never back), the orders it read, and its error or none.
    func recordShopSync(of shop: ShopConnection, tenantId: String, syncedUntil: Int64, orders: Int, error: String?, at: Int64) async throws
}

/// The shop context, written once for both databases.
extension ShopStore where Self: SQLStore {
    public func connectShop(_ s: ShopConnection, of account: Account, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("""
                INSERT INTO shop_connections (tenant_id, \(ShopRows.columns)) VALUES (?, \(SQLStatement.placeholders(9)))
                ON CONFLICT (tenant_id, account_id) DO UPDATE SET app_key = excluded.app_key, sealed_secret = excluded.sealed_secret,
                  synced_until = CASE WHEN shop_connections.shop_id = excluded.shop_id THEN shop_connections.synced_until ELSE excluded.synced_until END,
                  orders_synced = CASE WHEN shop_connections.shop_id = excluded.shop_id THEN shop_connections.orders_synced ELSE 0 END,
                  shop_id = excluded.shop_id, last_error = NULL, last_sync_at = NULL
                """, [.text(account.tenantId), .text(account.id), .text(s.shopId), .text(s.appKey), .text(s.sealedSecret), .int(s.syncedUntil), .int(s.ordersSynced),
                      .nullable(s.lastSyncAt), .nullable(s.lastError), .int(s.connectedAt)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func shopConnection(of account: Account) async throws -> ShopConnection? {
        try await runner.query(SQLStatement("SELECT \(ShopRows.columns) FROM shop_connections WHERE tenant_id = ? AND account_id = ?",
                                            [.text(account.tenantId), .text(account.id)])).first.map(ShopRows.shop)
    }

    public func disconnectShop(of account: Account, audit: AuditEntry) async throws -> Bool {
        do {
            try await runner.transaction([
                .require(SQLStatement("DELETE FROM shop_connections WHERE tenant_id = ? AND account_id = ? RETURNING account_id",
                                      [.text(account.tenantId), .text(account.id)]), orElse: .notFound("shop")),
                .execute(TenancyRows.record(audit)),
            ])
            return true
        } catch StoreError.notFound {
            return false
        }
    }

    public func shopsToSync(before: Int64, limit: Int) async throws -> [(tenantId: String, shop: ShopConnection)] {
        try await runner.query(SQLStatement("""
            SELECT tenant_id, \(ShopRows.columns) FROM shop_connections WHERE last_sync_at IS NULL OR last_sync_at < ?
            ORDER BY COALESCE(last_sync_at, 0), tenant_id, account_id LIMIT ?
            """, [.int(before), .int(Int64(limit))])).map { (try $0.text("tenant_id"), try ShopRows.shop($0)) }
    }

    public func recordShopSync(of s: ShopConnection, tenantId: String, syncedUntil: Int64, orders: Int, error: String?, at: Int64) async throws {
        // Only while the account still reads the same shop: a sync that ends after a reconnect leaves the new shop's progress be.
        try await runner.transaction([.execute(SQLStatement("""
            UPDATE shop_connections SET synced_until = CASE WHEN synced_until > ? THEN synced_until ELSE ? END, orders_synced = orders_synced + ?,
              last_error = ?, last_sync_at = ? WHERE tenant_id = ? AND account_id = ? AND shop_id = ?
            """, [.int(syncedUntil), .int(syncedUntil), .int(Int64(orders)), .nullable(error), .int(at), .text(tenantId), .text(s.accountId), .text(s.shopId)]))])
    }
}

enum ShopRows {
    static let columns = "account_id, shop_id, app_key, sealed_secret, synced_until, orders_synced, last_sync_at, last_error, connected_at"

    static func shop(_ row: SQLRow) throws -> ShopConnection {
        ShopConnection(accountId: try row.text("account_id"), shopId: try row.text("shop_id"), appKey: try row.text("app_key"),
                       sealedSecret: try row.text("sealed_secret"), syncedUntil: try row.int("synced_until"), ordersSynced: try row.int("orders_synced"),
                       lastSyncAt: row.optionalInt("last_sync_at"), lastError: row.optionalText("last_error"), connectedAt: try row.int("connected_at"))
    }
}
