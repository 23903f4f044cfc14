import FlywheelDomain
import FlywheelServer
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// The server answers every operation the OpenAPI document describes, with a documented status
/// and a body that has the documented required fields.
@Suite struct OpenAPIContractTests {
    @Test(arguments: StoreKind.allCases) func everyDocumentedOperationAnswersAsDocumented(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        try await f.test { client in
            let spec = try await client.execute(uri: "/openapi.json", method: .get) { try json($0) }
            #expect(spec["openapi"] as? String == "3.1.0")
            let schemas = (spec["components"] as! [String: Any])["schemas"] as! [String: Any]
            let accountId = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
            _ = try await f.flywheel.env.store.append([AccountEvent(tenantId: f.tenantId, accountId: accountId,
                event: FanEvent(id: "1", kind: .follow, openId: "fan-1", occurredAt: 1_772_294_400_000, channel: .search))]) { _ in }
            await f.flywheel.projector.drain()
            let users = try await client.get("/v1/users", key: f.key)["items"] as! [[String: Any]]
            let segment = try await client.post("/v1/accounts/\(accountId)/segments", key: f.key, ["name": "followers", "predicate": "following"])
            let apps = try await client.get("/v1/apps", key: f.key)["items"] as! [[String: Any]]
            // The owner is the tenant's only one: removing, disabling or demoting it is refused (409),
            // and the key named is no key (404), so every call leaves the fixture's key working.
            let values = ["accountId": accountId, "openId": "fan-1", "userId": users[0]["id"] as! String, "segmentId": segment["id"] as! String, "seq": "1",
                          "appId": apps[0]["id"] as! String, "keyId": "key_none"]

            let paths = spec["paths"] as! [String: [String: Any]]
            var checked = 0
            for (template, operations) in paths.sorted(by: { $0.key < $1.key }) {
                var uri = template
                for (name, value) in values { uri = uri.replacingOccurrences(of: "{\(name)}", with: value) }
                // The stream stays open as long as asked: a second here.
                if template == "/v1/stream" { uri += "?wait=1" }
                for (method, operation) in operations {
                    let op = operation as! [String: Any]
                    let responses = op["responses"] as! [String: Any]
                    let body: ByteBuffer? = method == "get" ? nil : ByteBuffer(string: method == "put" ? "{}" : "{}")
                    try await client.execute(uri: uri, method: HTTPRequest.Method(rawValue: method.uppercased())!, headers: auth(f.key), body: body) { (response: TestResponse) async throws in
                        let code = String(response.status.code)
                        #expect(!String(buffer: response.body).contains("no such route"), "\(method) \(template) is documented but not routed")
                        #expect(responses[code] != nil, "\(method) \(template) answered \(code), which the document does not list")
                        guard let documented = responses[code] as? [String: Any],
                              let content = documented["content"] as? [String: Any],
                              let media = content["application/json"] as? [String: Any],
                              let schema = media["schema"] as? [String: Any] else { return }
                        let resolved = resolve(schema, schemas)
                        if let required = resolved["required"] as? [String], let object = try? json(response) {
                            for field in required { #expect(object[field] != nil, "\(method) \(template) \(code) lacks '\(field)'") }
                        }
                    }
                    checked += 1
                }
            }
            #expect(checked == 156)
        }
    }
}

/// The other way round: every route the server has (but the console's pages) is in the document.
@Suite struct RoutesAreDocumentedTests {
    @Test(arguments: StoreKind.allCases) func everyRouteIsInTheOpenAPIDocument(_ kind: StoreKind) async throws {
        let f = try await ServerFixture(kind)
        let spec = try JSONSerialization.jsonObject(with: OpenAPIDocument.data) as! [String: Any]
        var documented = Set<String>()
        for (path, operations) in spec["paths"] as! [String: [String: Any]] {
            for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
        }
        let (flywheel, registry) = makeFlywheel(store: f.flywheel.env.store, logger: Logger(label: "test"))
        let routed = Set(buildRouter(flywheel, registry: registry).routes.compactMap { route -> String? in
            let path = "\(route.path)".split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            guard !path.hasPrefix("console"), !path.isEmpty else { return nil }
            return "\(route.method) /\(path)"
        })
        #expect(routed.count >= 50)
        #expect(routed.subtracting(documented).sorted() == [], "routed but not documented")
        #expect(documented.subtracting(routed).sorted() == [], "documented but not routed")
    }
}

func resolve(_ schema: [String: Any], _ schemas: [String: Any]) -> [String: Any] {
    guard let ref = schema["$ref"] as? String, let name = ref.split(separator: "/").last,
          let target = schemas[String(name)] as? [String: Any] else { return schema }
    return target
}
