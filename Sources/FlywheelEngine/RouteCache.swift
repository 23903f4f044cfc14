import FlywheelStore
import Synchronization

/// Apps by client_key and accounts by open_id, as webhooks look them up on every push. Entries
/// live 30 s: a new app or account is found at once (a miss goes to the store), and what the
/// store says wins again within half a minute. Unknown keys are not cached, so junk cannot fill it.
final class RouteCache: Sendable {
    private static let lifetime: Int64 = 30_000
    private let apps = Mutex<[String: (app: PlatformApp, at: Int64)]>([:])
    private let accounts = Mutex<[String: (account: Account, at: Int64)]>([:])

    func app(_ clientKey: String, now: Int64) -> PlatformApp? {
        apps.withLock { entries in entries[clientKey].flatMap { now - $0.at < Self.lifetime ? $0.app : nil } }
    }

    func remember(_ app: PlatformApp, now: Int64) {
        apps.withLock { $0[app.clientKey] = (app, now) }
    }

    func account(_ appId: String, _ openId: String, now: Int64) -> Account? {
        accounts.withLock { entries in entries[appId + "\u{1F}" + openId].flatMap { now - $0.at < Self.lifetime ? $0.account : nil } }
    }

    func remember(_ account: Account, now: Int64) {
        accounts.withLock { $0[account.appId + "\u{1F}" + account.openId] = (account, now) }
    }
}
