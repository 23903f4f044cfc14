import FlywheelEngine
import FlywheelServer
import FlywheelSQLite
import FlywheelStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var ms: Int64

    init(_ ms: Int64) { self.ms = ms }

    var now: Int64 { lock.withLock { ms } }

    func advance(by delta: Int64) { lock.withLock { ms += delta } }
}

/// Users and keys: revoked, expired and disabled keys are refused at once, by every server
/// process; the role rules hold; every change is in the audit log; the answers reveal nothing.
@Suite struct MembersTests {
    /// A server on a fresh SQLite file, with `now` from `clock` when given.
    static func server(at path: String? = nil, clock: TestClock? = nil, settings: ServerSettings = ServerSettings(runProjector: false))
        async throws -> (flywheel: Flywheel, app: any ApplicationProtocol, path: String) {
        let path = path ?? {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-members-\(UUID().uuidString)")
            try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            return dir.appendingPathComponent("members.sqlite").path
        }()
        let store = try SQLiteStore(path: path)
        try await store.migrate()
        let (made, registry) = makeFlywheel(store: store, logger: Logger(label: "test"))
        var flywheel = made
        if let clock {
            var env = made.env
            env.now = { clock.now }
            flywheel = Flywheel(env)
        }
        return (flywheel, buildApplication(flywheel, registry: registry, settings: settings), path)
    }

    func status(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String, body: String = "") async throws -> HTTPResponse.Status {
        try await client.execute(uri: uri, method: method, headers: auth(key), body: ByteBuffer(string: body)) { $0.status }
    }

    @Test func aRevokedKeyIsRefusedOnTheNextRequestByEveryProcess() async throws {
        let first = try await Self.server()
        // A second server over the same database: another process, with nothing shared in memory.
        let second = try await Self.server(at: first.path)
        let tenant = try await first.flywheel.tenancy.createTenant(name: "Acme", kind: .enterprise, actor: "test")
        let owner = tenant.key.token
        try await first.app.test(.router) { a in
            try await second.app.test(.router) { b in
                let issued = try await a.post("/v1/users/\(tenant.owner.id)/keys", key: owner, [:])
                let key = issued["token"] as! String
                #expect(try await status(a, .get, "/v1/tenant", key: key) == .ok)
                #expect(try await status(b, .get, "/v1/tenant", key: key) == .ok)

                #expect(try await status(a, .delete, "/v1/keys/\(issued["id"] as! String)", key: owner) == .noContent)
                #expect(try await status(a, .get, "/v1/tenant", key: key) == .unauthorized)
                #expect(try await status(b, .get, "/v1/tenant", key: key) == .unauthorized, "the other process refuses it at once")
                #expect(try await status(b, .get, "/v1/tenant", key: owner) == .ok)

                let listed = try await a.get("/v1/keys", key: owner)["items"] as! [[String: Any]]
                #expect(listed.first { $0["id"] as? String == issued["id"] as? String }?["state"] as? String == "revoked")
                // Anyone revokes a key of their own, even the one they call with.
                #expect(try await status(b, .delete, "/v1/keys/\(tenant.key.record.id)", key: owner) == .noContent)
                #expect(try await status(a, .get, "/v1/tenant", key: owner) == .unauthorized)
                let audit = try await first.flywheel.env.store.auditLog(tenantId: tenant.tenant.id, cursor: nil, limit: 50).items.map(\.action)
                #expect(audit.filter { $0 == "api_key.revoke" }.count == 2 && audit.contains("api_key.create"))
            }
        }
    }

    @Test func anExpiredKeyIsRefused() async throws {
        let clock = TestClock(1_772_294_400_000)
        let server = try await Self.server(clock: clock)
        let tenant = try await server.flywheel.tenancy.createTenant(name: "Acme", kind: .enterprise, actor: "test")
        let owner = tenant.key.token
        try await server.app.test(.router) { client in
            let daily = try await client.post("/v1/users/\(tenant.owner.id)/keys", key: owner, ["expiresInDays": 1])
            #expect(daily["expiresAt"] as? String == "2026-03-01T16:00:00.000Z")
            let dated = try await client.post("/v1/users/\(tenant.owner.id)/keys", key: owner, ["expiresAt": "2026-03-03T00:00:00Z"])
            for key in [daily, dated] { #expect(try await status(client, .get, "/v1/tenant", key: key["token"] as! String) == .ok) }

            clock.advance(by: 86_400_000)
            #expect(try await status(client, .get, "/v1/tenant", key: daily["token"] as! String) == .unauthorized, "expired on the dot")
            #expect(try await status(client, .get, "/v1/tenant", key: dated["token"] as! String) == .ok)
            let listed = try await client.get("/v1/keys", key: owner)["items"] as! [[String: Any]]
            #expect(Set(listed.compactMap { $0["state"] as? String }) == ["active", "expired"])

            // An expiry in the past, both kinds at once, or a date that is not one, is refused with the field named.
            for body in [["expiresAt": "2026-03-01T00:00:00Z"], ["expiresAt": "2026-04-01T00:00:00Z", "expiresInDays": 3],
                         ["expiresAt": "next week"], ["expiresInDays": 0]] as [[String: Any]] {
                let refused = try await client.post("/v1/users/\(tenant.owner.id)/keys", key: owner, body, expect: .badRequest)
                #expect(((refused["error"] as! [String: Any])["message"] as! String).hasPrefix("expires"), "\(body)")
            }
        }
    }

    @Test func aDisabledUsersKeyAndSessionAreRefusedAndARemovedUserIsGone() async throws {
        let f = try await ServerFixture()
        try await f.test { client in
            let user = try await client.post("/v1/users", key: f.key, ["name": "mei", "role": "operator"])
            let userId = user["id"] as! String
            #expect(user["state"] as? String == "active")
            let key = try await client.post("/v1/users/\(userId)/keys", key: f.key, [:])["token"] as! String
            let stored = try #require(try await f.flywheel.env.store.users(tenantId: f.tenantId).first { $0.id == userId })
            try await f.flywheel.signIn.setPassword("operator password", of: stored, actor: "test")
            let signedIn = try await signInThroughForm(client, ["name": "mei", "password": "operator password"])
            let cookie = try #require(signedIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            func console() async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie]) { $0.status }
            }
            #expect(try await console() == .ok)
            #expect(try await status(client, .get, "/v1/tenant", key: key) == .ok)

            let disabled = try await client.post("/v1/users/\(userId)/disable", key: f.key, [:], expect: .ok)
            #expect(disabled["state"] as? String == "disabled")
            #expect(try await status(client, .get, "/v1/tenant", key: key) == .unauthorized)
            #expect(try await console() == .seeOther, "the session ended with the user")
            #expect(try await signInThroughForm(client, ["name": "mei", "password": "operator password"]).status == .unauthorized)

            _ = try await client.post("/v1/users/\(userId)/enable", key: f.key, [:], expect: .ok)
            #expect(try await status(client, .get, "/v1/tenant", key: key) == .ok, "the key works again")
            #expect(try await console() == .seeOther, "the old session does not")

            #expect(try await status(client, .delete, "/v1/users/\(userId)", key: f.key) == .noContent)
            #expect(try await status(client, .get, "/v1/tenant", key: key) == .unauthorized)
            let users = try await client.get("/v1/users", key: f.key)["items"] as! [[String: Any]]
            #expect(!users.contains { $0["id"] as? String == userId })
            #expect(try await status(client, .delete, "/v1/users/\(userId)", key: f.key) == .notFound)
        }
    }

    @Test func roleRulesHoldAndEveryChangeIsAudited() async throws {
        let f = try await ServerFixture()
        try await f.test { client in
            let owners = try await client.get("/v1/users", key: f.key)["items"] as! [[String: Any]]
            let ownerId = owners[0]["id"] as! String
            let admin = try await client.post("/v1/users", key: f.key, ["name": "adm", "role": "admin"])["id"] as! String
            let adminKey = try await client.post("/v1/users/\(admin)/keys", key: f.key, [:])["token"] as! String
            let other = try await client.post("/v1/users", key: f.key, ["name": "adm2", "role": "admin"])["id"] as! String
            let agent = try await client.post("/v1/users", key: adminKey, ["name": "agt", "role": "agent"])["id"] as! String
            _ = try await client.post("/v1/users", key: adminKey, ["name": "own2", "role": "owner"], expect: .forbidden)

            // An admin works on users below admin, gives roles up to its own, and never touches an owner or another admin.
            #expect(try await status(client, .patch, "/v1/users/\(agent)", key: adminKey, body: #"{"role":"owner"}"#) == .forbidden)
            #expect(try await status(client, .patch, "/v1/users/\(agent)", key: adminKey, body: #"{"role":"operator"}"#) == .ok)
            let untouchable: [(HTTPRequest.Method, String)] = [(.patch, ownerId), (.delete, ownerId), (.patch, other), (.delete, other)]
            for (method, path) in untouchable {
                #expect(try await status(client, method, "/v1/users/\(path)", key: adminKey, body: #"{"role":"analyst"}"#) == .forbidden, "\(method) \(path)")
            }
            #expect(try await status(client, .post, "/v1/users/\(ownerId)/disable", key: adminKey) == .forbidden)
            let ownerKeyId = "key" + f.key.split(separator: "_")[1]
            #expect(try await status(client, .delete, "/v1/keys/\(ownerKeyId)", key: adminKey) == .forbidden, "an admin cannot take the owner's key away")
            #expect(try await status(client, .post, "/v1/users/\(agent)/disable", key: adminKey) == .ok)
            #expect(try await status(client, .post, "/v1/users/\(agent)/enable", key: adminKey) == .ok)
            #expect(try await status(client, .delete, "/v1/users/\(agent)", key: adminKey) == .noContent)

            // The last owner can never be removed, disabled or demoted.
            let lastOwner: [(HTTPRequest.Method, String, String)] = [(.delete, "/v1/users/\(ownerId)", ""), (.post, "/v1/users/\(ownerId)/disable", ""),
                                                                     (.patch, "/v1/users/\(ownerId)", #"{"role":"admin"}"#)]
            for (method, path, body) in lastOwner {
                try await client.execute(uri: path, method: method, headers: auth(f.key), body: ByteBuffer(string: body)) { (response: TestResponse) async throws in
                    #expect(response.status == .conflict, "\(method) \(path)")
                    #expect(try errorCode(response) == "last_owner")
                }
            }
            // With a second owner, the first may step down.
            #expect(try await status(client, .patch, "/v1/users/\(admin)", key: f.key, body: #"{"role":"owner"}"#) == .ok)
            #expect(try await status(client, .patch, "/v1/users/\(ownerId)", key: f.key, body: #"{"role":"admin"}"#) == .ok)
            #expect(try await status(client, .patch, "/v1/users/\(admin)", key: adminKey, body: #"{"role":"admin"}"#) == .conflict,
                    "now the other one is the last owner")

            let audit = try await client.get("/v1/audit?limit=100", key: adminKey)["items"] as! [[String: Any]]
            let actions = audit.map { $0["action"] as! String }
            for action in ["user.create", "api_key.create", "user.role", "user.disable", "user.enable", "user.remove"] {
                #expect(actions.contains(action), "\(action) is audited")
            }
            #expect(actions.filter { $0 == "user.role" }.count == 3)
        }
    }

    @Test func conflictsNameTheFieldAndNeverTheDatabase() async throws {
        let f = try await ServerFixture()
        try await f.test { client in
            let app = try await client.post("/v1/apps", key: f.key, ["name": "a", "clientKey": "ck", "clientSecret": "s"])
            _ = try await client.post("/v1/accounts", key: f.key, ["name": "x", "appId": app["id"] as! String, "openId": "o"])
            let answers = [
                try await client.post("/v1/users", key: f.key, ["name": "owner", "role": "agent"], expect: .conflict),
                try await client.post("/v1/accounts", key: f.key, ["name": "y", "appId": app["id"] as! String, "openId": "o"], expect: .conflict),
                try await client.post("/v1/apps", key: f.key, ["name": "b", "clientKey": "ck", "clientSecret": "s"], expect: .conflict),
            ]
            for answer in answers {
                let message = (answer["error"] as! [String: Any])["message"] as! String
                for word in ["UNIQUE", "constraint", "users.", "accounts.", "tenant_id", "Key ("] {
                    #expect(!message.contains(word), "\(message)")
                }
            }
            #expect(((answers[1]["error"] as! [String: Any])["message"] as! String).hasPrefix("openId"))
        }
    }

    @Test func securityHeadersAreOnEveryAnswer() async throws {
        let f = try await ServerFixture()
        try await f.test { client in
            let requests: [(String, String?)] = [("/v1/tenant", f.key), ("/v1/tenant", nil), ("/v1/nothing", f.key), ("/console/login", nil),
                                                 ("/console", nil), ("/health", nil)]
            for (uri, key) in requests {
                try await client.execute(uri: uri, method: .get, headers: key.map(auth) ?? [:]) { response in
                    #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true, "\(uri) \(response.status)")
                    #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", "\(uri)")
                    #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(uri)")
                }
            }
        }
    }

    @Test func signingInNeedsTheFormsToken() async throws {
        let f = try await ServerFixture()
        let owner = try #require(try await f.flywheel.env.store.users(tenantId: f.tenantId).first)
        try await f.flywheel.signIn.setPassword("correct horse", of: owner, actor: "test")
        try await f.test { client in
            let page = try await client.execute(uri: "/console/login", method: .get) { $0 }
            let cookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("fw_signin=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"))
            let token = try #require(cookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last.map(String.init))
            let fields = ["name": "owner", "password": "correct horse"]
            let attempts: [(HTTPFields, [String: String])] = [
                ([.contentType: "application/x-www-form-urlencoded"], fields),
                ([.contentType: "application/x-www-form-urlencoded"], fields.merging(["csrf": token]) { a, _ in a }),
                ([.contentType: "application/x-www-form-urlencoded", .cookie: "fw_signin=\(token)"], fields),
                ([.contentType: "application/x-www-form-urlencoded", .cookie: "fw_signin=\(token)"], fields.merging(["csrf": "forged"]) { a, _ in a }),
            ]
            for (headers, body) in attempts {
                try await client.execute(uri: "/console/login", method: .post, headers: headers, body: consoleForm(body)) { response in
                    #expect(response.status == .forbidden)
                    #expect(!response.headers[values: .setCookie].contains { $0.hasPrefix("fw_session=") })
                    #expect(String(buffer: response.body).contains("name=\"csrf\""), "a fresh form to try again")
                }
            }
            #expect(try await signInThroughForm(client, fields).status == .seeOther)
        }
    }

    @Test func cookiesAreSecureWhenTheProxyInFrontSaysHTTPS() async throws {
        let behind = try await ServerFixture(settings: ServerSettings(runProjector: false, trustProxy: true))
        try await behind.test { client in
            let https = try await client.execute(uri: "/console/login?lang=en", method: .get, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"]) { $0 }
            #expect(https.headers[values: .setCookie].count == 2)
            #expect(https.headers[values: .setCookie].allSatisfy { $0.contains("Secure") })
            let plain = try await client.execute(uri: "/console/login", method: .get) { $0 }
            #expect(plain.headers[values: .setCookie].allSatisfy { !$0.contains("Secure") })
        }
        // Without a proxy of our own, the header is the client's word and counts for nothing.
        let direct = try await ServerFixture()
        try await direct.test { client in
            let claimed = try await client.execute(uri: "/console/login", method: .get, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"]) { $0 }
            #expect(claimed.headers[values: .setCookie].allSatisfy { !$0.contains("Secure") })
        }
    }

    @Test func theSettingsPageManagesUsersAndTheCallersOwnKeys() async throws {
        let f = try await ServerFixture()
        let owner = try #require(try await f.flywheel.env.store.users(tenantId: f.tenantId).first)
        try await f.flywheel.signIn.setPassword("correct horse", of: owner, actor: "test")
        try await f.test { client in
            let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            let agent = try await client.post("/v1/users", key: f.key, ["name": "xiaomei", "role": "agent"])["id"] as! String
            let signedIn = try await signInThroughForm(client, ["name": "owner", "password": "correct horse"])
            let cookie = try #require(signedIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            func get(_ uri: String) async throws -> String {
                try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie]) { String(buffer: $0.body) }
            }
            func post(_ uri: String, _ fields: [String: String] = [:], csrf: String) async throws -> String {
                try await client.execute(uri: uri, method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                         body: consoleForm(fields.merging(["csrf": csrf]) { a, _ in a })) { response in
                    #expect(response.status == .seeOther, "\(uri)")
                    return response.headers[.location] ?? ""
                }
            }
            let settings = try await get("/console/settings?account=\(account)&lang=en")
            let csrf = try #require(settings.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" }).description
            #expect(settings.contains("/console/settings/users/\(agent)/disable?account=\(account)"))
            #expect(settings.contains("Your API keys") && settings.contains(f.key.split(separator: "_")[1]), "the owner's own key is listed")

            let disabled = try await post("/console/settings/users/\(agent)/disable?account=\(account)", csrf: csrf)
            #expect(disabled.contains("usersNotice=") && disabled.hasSuffix("#users"))
            #expect(try await f.flywheel.env.store.user(id: agent, tenantIds: [f.tenantId])?.isDisabled == true)
            #expect(try await get("/console/settings?account=\(account)&lang=en").contains("/console/settings/users/\(agent)/enable?account=\(account)"))
            let role = try await post("/console/settings/users/\(agent)/role?account=\(account)", ["role": "analyst"], csrf: csrf)
            #expect(role.contains("usersNotice="))
            #expect(try await f.flywheel.env.store.user(id: agent, tenantIds: [f.tenantId])?.role == .analyst)

            // The last owner stays, said in the reader's language.
            let refused = try await post("/console/settings/users/\(owner.id)/remove?account=\(account)&lang=en", csrf: csrf)
            #expect(refused.contains("usersError="))
            #expect(try await get(refused).contains("The last owner cannot be removed"))

            _ = try await post("/console/settings/users/\(agent)/remove?account=\(account)", csrf: csrf)
            #expect(try await f.flywheel.env.store.user(id: agent, tenantIds: [f.tenantId]) == nil)

            // Revoking one's own key from the page: the API refuses it at once.
            let keyId = "key" + f.key.split(separator: "_")[1]
            let revoked = try await post("/console/settings/keys/\(keyId)/revoke?account=\(account)", csrf: csrf)
            #expect(revoked.contains("keysNotice=") && revoked.hasSuffix("#keys"))
            #expect(try await status(client, .get, "/v1/tenant", key: f.key) == .unauthorized)
        }
    }
}
