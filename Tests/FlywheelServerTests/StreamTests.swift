import Crypto
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import FlywheelTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// Changes streamed out: read from any point, delivered signed to a real endpoint on loopback,
/// retried with backoff, disabled after repeated failure with a notice, and followed as
/// server-sent events resumed from an id.
@Suite struct StreamTests {
    /// What the receiving endpoint got, and what it answers next.
    final class Receiver: Sendable {
        let posts = Mutex<[(body: String, signature: String)]>([])
        let answer = Mutex<HTTPResponse.Status>(.ok)
    }

    @Test(arguments: StoreKind.allCases) func changesGoOutSignedInOrderAndResume(_ kind: StoreKind) async throws {
        let clock = TestClock(Date().millisecondsSince1970)
        let f = try await ServerFixture(kind, clock: clock)
        let rival = try await f.flywheel.tenancy.createTenant(name: "Rival", kind: .enterprise, actor: "test")
        let receiver = Receiver()
        let router = Router()
        router.post("/hook") { request, _ -> HTTPResponse.Status in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            receiver.posts.withLock { $0.append((body, request.headers[HTTPField.Name("Flywheel-Signature")!] ?? "")) }
            return receiver.answer.withLock { $0 }
        }
        try await Application(router: router).test(.live) { hook in
            let port = try #require(hook.port)
            try await f.test { client in
                let account = try await client.account(key: f.key, clientKey: "ck", secret: "s", openId: "o")
                let made = try await client.post("/v1/webhook-endpoints", key: f.key, ["url": "http://127.0.0.1:\(port)/hook", "kinds": ["tier_changed"]])
                let endpoint = try #require(made["id"] as? String), secret = try #require(made["secret"] as? String)
                #expect(secret.hasPrefix("whsec_") && made["state"] as? String == "active")
                _ = try await client.post("/v1/webhook-endpoints", key: f.key, ["url": "ftp://x/hook"], expect: .badRequest)
                _ = try await client.post("/v1/webhook-endpoints", key: f.key, ["url": "http://127.0.0.1/", "kinds": ["tier_moved"]], expect: .badRequest)
                // Another enterprise sees neither the endpoint nor the changes.
                try await client.execute(uri: "/v1/webhook-endpoints/\(endpoint)", method: .get, headers: auth(rival.key.token)) { #expect($0.status == .notFound) }

                func follow(_ fans: ClosedRange<Int>) async throws {
                    _ = try await f.flywheel.env.store.append(fans.map {
                        AccountEvent(tenantId: f.tenantId, accountId: account, event: FanEvent(id: "e\($0)", kind: .follow, openId: "fan\($0)",
                                                                                              occurredAt: clock.now - 60_000, channel: .search))
                    }) { _ in }
                    await f.flywheel.projector.drain()
                }
                _ = try await client.post("/v1/accounts/\(account)/segments", key: f.key, ["name": "followers", "predicate": "following"])
                try await follow(1...3)
                let changes = try await client.get("/v1/changes?after=0", key: f.key)
                let items = try #require(changes["items"] as? [[String: Any]])
                let tierChanges = items.filter { $0["kind"] as? String == "tier_changed" }
                #expect(tierChanges.count == 3 && (tierChanges.first?["data"] as? [String: String])?["to"] == "passerby")
                #expect(items.contains { $0["kind"] as? String == "segment_entered" }, "segment entries are changes too")
                #expect((try await client.get("/v1/changes?after=0", key: rival.key.token)["items"] as? [[String: Any]])?.isEmpty == true)

                // Delivered: only the kinds it asked for, signed over the body with its secret.
                clock.advance(by: 1)
                #expect(try await f.flywheel.webhooks.deliverDue() == 1)
                let first = try #require(receiver.posts.withLock { $0.first })
                let sent = try #require(try JSONSerialization.jsonObject(with: Data(first.body.utf8)) as? [String: Any])["changes"] as? [[String: Any]]
                #expect(sent?.map { $0["openId"] as? String } == ["fan1", "fan2", "fan3"] && sent?.allSatisfy { $0["kind"] as? String == "tier_changed" } == true)
                let parts = Dictionary(uniqueKeysWithValues: first.signature.split(separator: ",").map { pair in
                    (String(pair.prefix { $0 != "=" }), String(pair.drop { $0 != "=" }.dropFirst()))
                })
                let mac = HMAC<SHA256>.authenticationCode(for: Data("\(parts["t"] ?? "").\(first.body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
                #expect(parts["v1"] == mac.map { String(format: "%02x", $0) }.joined(), "the signature is HMAC-SHA256 of t.body")
                #expect(try await f.flywheel.webhooks.deliverDue() == 0, "nothing new, nothing sent")

                // The endpoint fails: the same changes wait, with a growing pause.
                receiver.answer.withLock { $0 = .internalServerError }
                try await follow(4...5)
                clock.advance(by: 1)
                #expect(try await f.flywheel.webhooks.deliverDue() == 1)
                #expect(try await f.flywheel.webhooks.deliverDue() == 0, "within its backoff")
                clock.advance(by: WebhookEndpoint.backoff(afterFailures: 1) + 1)
                clock.advance(by: 1)
                #expect(try await f.flywheel.webhooks.deliverDue() == 1)
                let failing = try await client.get("/v1/webhook-endpoints/\(endpoint)", key: f.key)
                #expect(failing["failures"] as? Int == 2 && failing["state"] as? String == "active")
                // After ten failures in a row it is disabled, and the audit log says so.
                var stored = try #require(try await f.flywheel.env.store.webhookEndpoints(tenantId: f.tenantId).first)
                stored.failures = WebhookEndpoint.failuresBeforeDisabling - 1
                stored.nextAttemptAt = 0
                try await f.flywheel.env.store.recordAttempt(nil, endpoint: stored, audit: nil)
                clock.advance(by: 1)
                #expect(try await f.flywheel.webhooks.deliverDue() == 1)
                let disabled = try await client.get("/v1/webhook-endpoints/\(endpoint)", key: f.key)
                #expect(disabled["state"] as? String == "disabled" && (disabled["disabledReason"] as? String)?.contains("HTTP 500") == true)
                let audit = try await f.flywheel.env.store.auditLog(tenantId: f.tenantId, cursor: nil, limit: 50).items
                #expect(audit.contains { $0.action == "webhook.disabled" && $0.target == endpoint })
                #expect(try await f.flywheel.webhooks.deliverDue() == 0, "a disabled endpoint gets nothing")

                // Enabled again, it gets what it missed, in order, once.
                receiver.answer.withLock { $0 = .ok }
                _ = try await client.post("/v1/webhook-endpoints/\(endpoint)/enable", key: f.key, [:], expect: .ok)
                clock.advance(by: 1)
                #expect(try await f.flywheel.webhooks.deliverDue() == 1)
                let delivered = receiver.posts.withLock { $0 }.filter { !$0.body.isEmpty }
                let newest = try #require(delivered.last)
                let last = try #require(try JSONSerialization.jsonObject(with: Data(newest.body.utf8)) as? [String: Any])["changes"] as? [[String: Any]]
                #expect(last?.map { $0["openId"] as? String } == ["fan4", "fan5"])
                let log = try #require(try await client.get("/v1/webhook-endpoints/\(endpoint)/deliveries", key: f.key)["items"] as? [[String: Any]])
                #expect(log.compactMap { $0["status"] as? Int } == [200] + Array(repeating: 500, count: 3) + [200], "the delivery log, newest first")

                // Followed live: server-sent events from the start, then resumed after an id.
                let stream = try await client.execute(uri: "/v1/stream?wait=1", method: .get, headers: auth(f.key)) { String(buffer: $0.body) }
                let ids = stream.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
                #expect(ids.count == items.count + 4, "every change so far, each with its id")
                #expect(stream.contains("event: tier_changed\ndata: {"))
                var resumed = auth(f.key)
                resumed[HTTPField.Name("Last-Event-ID")!] = ids.first ?? ""
                let rest = try await client.execute(uri: "/v1/stream?wait=1", method: .get, headers: resumed) { String(buffer: $0.body) }
                #expect(rest.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) } == Array(ids.dropFirst()))
                try await client.execute(uri: "/v1/stream?wait=0", method: .get, headers: auth(f.key)) { #expect($0.status == .badRequest) }

                try await client.execute(uri: "/v1/webhook-endpoints/\(endpoint)", method: .delete, headers: auth(f.key)) { #expect($0.status == .noContent) }
                #expect((try await client.get("/v1/webhook-endpoints", key: f.key)["items"] as? [[String: Any]])?.isEmpty == true)
            }
        }
    }
}

extension Date {
    var millisecondsSince1970: Int64 { Int64(timeIntervalSince1970 * 1_000) }
}
