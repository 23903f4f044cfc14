import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelStore

/// An account's shop: connected with its self-use app's key and secret (checked with the shop
/// platform before they are kept, the secret sealed), its orders then read every few minutes.
public struct Shops: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public func connect(shopId: String, appKey: String, appSecret: String, of account: Account, by caller: Principal) async throws -> ShopConnection {
        try caller.authorize(.connectShop)
        let shopId = try Validate.token(shopId, field: "shopId")
        let appKey = try Validate.token(appKey, field: "appKey")
        let appSecret = try Validate.token(appSecret, field: "appSecret")
        let sealed = try env.sealer.seal(appSecret, context: TokenSealer.context(account, ShopSync.secretColumn))
        do {
            _ = try await env.platform.shopToken(ShopCredentials(shopId: shopId, appKey: appKey, appSecret: appSecret))
        } catch let error as PlatformError {
            if case .unreachable = error { throw error }
            throw UseCaseError.invalid(field: "appSecret", "the shop platform refused this shop id, app key and secret (\(error)); copy them again from the shop's self-use app")
        }
        let now = env.now()
        try await env.store.connectShop(ShopConnection(accountId: account.id, shopId: shopId, appKey: appKey, sealedSecret: sealed,
                                                       syncedUntil: now - ShopConnection.backfill, connectedAt: now),
                                        of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "shop.connect", target: account.id))
        return try await read(of: account, by: caller)
    }

    public func read(of account: Account, by caller: Principal) async throws -> ShopConnection {
        try caller.authorize(.readShop)
        guard let shop = try await env.store.shopConnection(of: account) else { throw UseCaseError.notFound("shop of account \(account.id)") }
        return shop
    }

    public func disconnect(of account: Account, by caller: Principal) async throws {
        try caller.authorize(.disconnectShop)
        guard try await env.store.disconnectShop(of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "shop.disconnect",
                                                                                target: account.id)) else {
            throw UseCaseError.notFound("shop of account \(account.id)")
        }
    }
}
