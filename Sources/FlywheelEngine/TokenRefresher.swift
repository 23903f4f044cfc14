import FlywheelPlatform
import FlywheelStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps connected accounts' access tokens alive: once a minute, every access token that expires
/// within 24 hours is renewed with its refresh token (`PlatformClient.refresh`). A failure is
/// logged and tried again later, backing off to once an hour; it never stops the service.
public final class TokenRefresher: Service, Sendable {
    let env: FlywheelEnvironment
    let interval: Duration
    /// Accounts whose last refresh failed, by tenant/account: how often in a row, and not before when.
    private let backoff = Mutex<[AccountKey: (failures: Int, next: Int64)]>([:])

    /// Access tokens expiring within this (ms) are renewed: a day, so a platform outage of hours loses none.
    public static let window: Int64 = 24 * 3_600_000
    /// Accounts looked at per tick.
    static let batch = 500

    public init(_ env: FlywheelEnvironment, interval: Duration = .seconds(60)) {
        self.env = env
        self.interval = interval
    }

    /// Renews what is due; returns how many accounts' tokens were renewed.
    @discardableResult
    public func tick() async -> Int {
        let now = env.now()
        let due: [(account: Account, tokens: SealedAccountTokens)]
        do {
            due = try await env.store.accountsWithTokensExpiring(before: now + Self.window, refreshableAt: now, limit: Self.batch)
        } catch {
            env.logger.error("token refresh could not read the tokens due; will retry at the next tick", metadata: ["error": "\(error)"])
            return 0
        }
        var apps: [String: [PlatformApp]] = [:]
        var renewed = 0
        for (account, tokens) in due {
            let key = AccountKey(account)
            if let wait = backoff.withLock({ $0[key] }), wait.next > now { continue }
            do {
                if apps[account.tenantId] == nil { apps[account.tenantId] = try await env.store.apps(tenantId: account.tenantId) }
                guard let app = apps[account.tenantId]?.first(where: { $0.id == account.appId }) else { throw Failure.noApp(account.appId) }
                try await refresh(account, tokens, app: app, now: now)
                backoff.withLock { $0[key] = nil }
                renewed += 1
            } catch {
                let failures = (backoff.withLock { $0[key]?.failures } ?? 0) + 1
                // One minute, doubling, at most an hour: a revoked grant does not hammer the platform.
                let delay = min(Int64(60_000) << Int64(min(failures - 1, 6)), 3_600_000)
                backoff.withLock { $0[key] = (failures, now + delay) }
                env.logger.error("token refresh failed; will retry", metadata: [
                    "account": "\(account.id)", "tenant": "\(account.tenantId)", "failures": "\(failures)", "error": "\(error)",
                ])
            }
        }
        return renewed
    }

    enum Failure: Error, CustomStringConvertible {
        case noApp(String)
        case refreshExpired
        case otherAccount(String)

        var description: String {
            switch self {
            case .noApp(let id): "the account's app \(id) is gone"
            case .refreshExpired: "the refresh token has expired: connect the account again"
            case .otherAccount(let openId): "the platform answered for another account (\(openId))"
            }
        }
    }

    func refresh(_ account: Account, _ tokens: SealedAccountTokens, app: PlatformApp, now: Int64) async throws {
        guard tokens.refreshExpiresAt > now else { throw Failure.refreshExpired }
        let refreshToken = try env.sealer.open(tokens, of: account).refreshToken
        let fresh = try await env.platform.refresh(AppCredentials(clientKey: app.clientKey, clientSecret: app.clientSecret), refreshToken)
        guard fresh.openId.isEmpty || fresh.openId == account.openId else { throw Failure.otherAccount(fresh.openId) }
        let sealed = try env.sealer.seal(fresh, of: account, now: now, previous: tokens)
        try await env.store.saveTokens(sealed, of: account, audit: env.audit(tenantId: account.tenantId, actor: "system", action: "account.tokens.refresh",
                                                                           target: account.id))
    }

    public func run() async throws {
        // A shutdown ends the wait at once rather than after up to a minute.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.tick()
                try? await Task.sleep(for: self.interval)
            }
        }
    }
}
