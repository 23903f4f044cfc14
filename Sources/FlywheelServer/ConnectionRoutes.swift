import FlywheelApp
import FlywheelEngine
import FlywheelStore
import Foundation
import HTTPTypes
import Hummingbird

/// Connecting an account by the platform's OAuth: the consent link under `/v1`, and the public
/// callback the platform sends the browser back to.
extension APIRoutes {
    func addConnections(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("apps/:appId/connect", use: connectAccount)
    }

    struct ConnectLink: ResponseEncodable { var url: String }

    /// The platform's consent page for the app, to open in a browser where the account consents.
    @Sendable func connectAccount(_ request: Request, context: FlywheelRequestContext) async throws -> ConnectLink {
        let caller = try context.authorize(.connectAccount)
        let appId = try context.parameters.require("appId")
        var found: PlatformApp?
        for tenantId in context.tenantIds where found == nil {
            found = try await store.apps(tenantId: tenantId).first { $0.id == appId }
        }
        guard let app = found else { throw APIError.notFound("app \(appId)") }
        guard let redirectURI = request.query("redirectUri") else {
            throw APIError.invalid("redirectUri", "is required: Flywheel's /oauth/douyin/callback URL as registered with the platform app")
        }
        return ConnectLink(url: try Connections(flywheel).authorizeURL(app: app, redirectURI: redirectURI, by: caller))
    }
}

/// `GET /oauth/douyin/callback?code=&state=`: public, because the platform sends the browser here;
/// the signed state says who asked. A browser goes on to the console's settings; a client that
/// asks for JSON gets the account.
enum ConnectionCallback {
    struct ConnectedView: ResponseEncodable {
        var account: AccountView
        /// False when the account was already in Flywheel and only its tokens were renewed.
        var created: Bool
    }

    static func add(to router: Router<FlywheelRequestContext>, flywheel: Flywheel) {
        router.get("/oauth/douyin/callback") { request, context -> Response in
            try await ConnectionCallback.complete(request, context: context, flywheel: flywheel)
        }
    }

    static func complete(_ request: Request, context: FlywheelRequestContext, flywheel: Flywheel) async throws -> Response {
        // Without a code the account refused, or the platform failed: say so rather than "missing field".
        guard let code = request.query("code") else {
            let why = request.query("error_description") ?? request.query("error") ?? "no code came back"
            throw APIError.invalid("code", "is required: the platform sent none (\(why)); connect again")
        }
        guard let state = request.query("state") else { throw APIError.invalid("state", "is required; connect again from the connect link") }
        let connected = try await Connections(flywheel).complete(code: code, state: state)
        if request.headers[.accept]?.contains("application/json") == true {
            return try ConnectedView(account: AccountView(connected.account), created: connected.created).response(from: request, context: context)
        }
        let account = connected.account
        let notice = "connected \(account.name) (\(account.openId))"
        return Response(status: .seeOther, headers: [
            .location: "/console/settings?account=\(ConsoleRoutes.queryValue(account.id))&notice=\(ConsoleRoutes.queryValue(notice))",
        ])
    }
}
