import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelServer
import FlywheelSQLite
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A server on a fresh store of either kind (projector driven by the test), with one tenant and its owner key.
struct ServerFixture {
    let flywheel: Flywheel
    let app: any ApplicationProtocol
    let tenantId: String
    let key: String

    /// The live test client keeps one connection through a test whose set-up can sit longer than
    /// the server's 30 idle seconds on a loaded machine; tests of the idle timeout set their own.
    init(_ kind: StoreKind = .sqlite, settings: ServerSettings = ServerSettings(runProjector: false, limits: ServerLimits(idleTimeout: 600)), limits: FlywheelLimits = FlywheelLimits(),
         sealer: TokenSealer = .unkeyed, clock: TestClock? = nil) async throws {
        let store = try await makeStore(kind)
        let (built, registry) = makeFlywheel(store: store, logger: Logger(label: "test"), limits: limits, sealer: sealer)
        var flywheel = built
        if let clock {
            var env = built.env
            env.now = { clock.now }
            flywheel = Flywheel(env)
        }
        self.flywheel = flywheel
        app = buildApplication(flywheel, registry: registry, settings: settings)
        let made = try await flywheel.tenancy.createTenant(name: "Acme", kind: .enterprise, actor: "test")
        tenantId = made.tenant.id
        key = made.key.token
    }

    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await app.test(.router) { client in try await body(client) }
    }
}

func auth(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)", .contentType: "application/json"] }

func json(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
}

func errorCode(_ response: TestResponse) throws -> String? {
    (try json(response)["error"] as? [String: Any])?["code"] as? String
}

extension TestClientProtocol {
    /// POSTs JSON and returns the decoded answer, expecting `status`.
    @discardableResult
    func post(_ uri: String, key: String, _ body: [String: Any], expect status: HTTPResponse.Status = .created) async throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: body)
        return try await execute(uri: uri, method: .post, headers: auth(key), body: ByteBuffer(bytes: data)) { (response: TestResponse) async throws in
            #expect(response.status == status, "\(uri): \(String(buffer: response.body))")
            return try json(response)
        }
    }

    func get(_ uri: String, key: String) async throws -> [String: Any] {
        try await execute(uri: uri, method: .get, headers: auth(key)) { (response: TestResponse) async throws in
            #expect(response.status == .ok, "\(uri): \(String(buffer: response.body))")
            return try json(response)
        }
    }

    /// Registers an app and an account under it; returns the account id.
    func account(key: String, clientKey: String, secret: String, openId: String) async throws -> String {
        let app = try await post("/v1/apps", key: key, ["name": clientKey, "clientKey": clientKey, "clientSecret": secret])
        let account = try await post("/v1/accounts", key: key, ["name": openId, "appId": try #require(app["id"] as? String), "openId": openId])
        return try #require(account["id"] as? String)
    }

    func deliver(_ body: [UInt8], secret: String, msgId: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[HTTPField.Name("X-Douyin-Signature")!] = WebhookSignature.sign(body: body, secret: secret)
        if let msgId { headers[HTTPField.Name("Msg-Id")!] = msgId }
        return try await execute(uri: "/webhooks/douyin", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { $0 }
    }
}
