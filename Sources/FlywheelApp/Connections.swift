import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelStore
import Foundation

/// Connecting an enterprise account by the platform's OAuth: an owner or admin opens the consent
/// page for one of the tenant's apps, the account consents, and the platform sends the browser
/// back with a code that Flywheel exchanges for the account's tokens, kept sealed. The `state`
/// carried through the platform is signed, names who asked, and lasts 10 minutes, so a callback
/// cannot be forged, replayed later, or aimed at another tenant.
public struct Connections: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// How long a consent may take: the platform's codes last as long.
    public static let stateLifetime: Int64 = 10 * 60_000
    /// What Flywheel asks the account for: its profile, DMs and group messages.
    public static let scope = "user_info,im.direct_message,im.group_message"

    /// What the signed state says: the app's tenant and app, who asked, until when.
    struct State: Codable, Equatable {
        var tenantId: String
        var appId: String
        var userTenantId: String
        var userId: String
        var expiresAt: Int64
        /// Makes every state different, even for the same caller within a millisecond.
        var nonce: String
    }

    /// The platform's consent page for `app`, which sends the browser back to `redirectURI`
    /// (Flywheel's `/oauth/douyin/callback`, as registered with the platform app).
    public func authorizeURL(app: PlatformApp, redirectURI: String, by caller: Principal) throws -> String {
        try caller.authorize(.connectAccount)
        let redirect = try Self.validRedirect(redirectURI)
        let state = try sign(State(tenantId: app.tenantId, appId: app.id, userTenantId: caller.tenantId, userId: caller.userId,
                                   expiresAt: env.now() + Self.stateLifetime, nonce: env.randomHex(16)))
        return try env.platform.authorizeURL(app.clientKey, Self.scope, redirect, state)
    }

    /// The account connected, and whether it was new to Flywheel.
    public struct Connected: Sendable, Equatable {
        public var account: Account
        public var created: Bool
    }

    /// Finishes a consent: checks the state, exchanges the code, creates the account (or finds the
    /// one with that open_id under the app) and saves its tokens sealed, audited as the user who asked.
    public func complete(code: String, state: String) async throws -> Connected {
        let code = try Validate.token(code, field: "code")
        let claims = try verify(state)
        // The user's role is read again: it may have changed during the consent.
        guard let user = try await env.store.users(tenantId: claims.userTenantId).first(where: { $0.id == claims.userId }) else {
            throw UseCaseError.invalid(field: "state", "the user who asked to connect no longer exists")
        }
        // The user's standing is read again too: one disabled during the consent connects nothing.
        guard !user.isDisabled, Access.allows(user.role, .connectAccount) else { throw AccessDenied(operation: .connectAccount, role: user.role) }
        guard let app = try await env.store.apps(tenantId: claims.tenantId).first(where: { $0.id == claims.appId }) else {
            throw UseCaseError.notFound("app \(claims.appId)")
        }
        let token: AccountToken
        do {
            token = try await env.platform.exchangeCode(AppCredentials(clientKey: app.clientKey, clientSecret: app.clientSecret), code)
        } catch PlatformError.invalidToken {
            throw UseCaseError.invalid(field: "code", "the platform refused the code: it was used already or is older than 10 minutes; connect again")
        }
        guard let openId = try? Validate.token(token.openId, field: "open_id") else {
            throw PlatformError.unreachable("the platform's answer has no usable open_id")
        }
        let actor = "user:\(user.id)"
        let now = env.now()
        var found = try await env.store.account(tenantId: app.tenantId, appId: app.id, openId: openId)
        var created = false
        if found == nil {
            let new = Account(tenantId: app.tenantId, id: env.newId("acc"), name: "Douyin \(openId.prefix(24))", appId: app.id, openId: openId,
                              timeZone: AccountCalendar.defaultTimeZone, createdAt: now)
            do {
                try await env.store.createAccount(new, audit: env.audit(tenantId: new.tenantId, actor: actor, action: "account.create",
                                                                       target: new.id, detail: "connected by OAuth"))
                found = new
                created = true
            } catch StoreError.conflict {
                // Connected twice at once: the other callback created it.
                found = try await env.store.account(tenantId: app.tenantId, appId: app.id, openId: openId)
            }
        }
        guard let account = found else { throw UseCaseError.notFound("account \(openId)") }
        let sealed = try env.sealer.seal(token, of: account, now: now)
        try await env.store.saveTokens(sealed, of: account, audit: env.audit(tenantId: account.tenantId, actor: actor, action: "account.connect",
                                                                           target: account.id, detail: sealed.scope))
        return Connected(account: account, created: created)
    }

    /// `<payload>.<signature>`, both base64url: the payload is the state as JSON.
    func sign(_ state: State) throws -> String {
        let payload = TokenSealer.base64url(try JSONEncoder().encode(state))
        let signature = try env.sealer.sign(payload)
        return payload + "." + signature
    }

    func verify(_ text: String) throws -> State {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        // A server without a usable key signed no state (it could not start a consent): not signed here either.
        guard parts.count == 2, (try? env.sealer.verify(parts[1], of: parts[0])) == true, let json = TokenSealer.fromBase64url(parts[0]),
              let state = try? JSONDecoder().decode(State.self, from: json) else {
            // Like a CSRF token that does not match: refused, not a mistake in the request's shape.
            throw UseCaseError.forbidden("state: is not one Flywheel signed; start again from the connect link")
        }
        guard state.expiresAt > env.now() else { throw UseCaseError.invalid(field: "state", "has expired (10 minutes); start again from the connect link") }
        return state
    }

    /// An absolute http(s) URL: where the platform sends the browser back.
    static func validRedirect(_ text: String) throws(UseCaseError) -> String {
        guard text.count <= 2_000, let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = parts.host, !host.isEmpty else {
            throw .invalid(field: "redirectUri", "must be an absolute http or https URL: Flywheel's /oauth/douyin/callback as registered with the platform app")
        }
        return text
    }
}
