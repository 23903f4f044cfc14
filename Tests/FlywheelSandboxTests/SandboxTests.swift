import Crypto
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelSandbox
import FlywheelServer
import FlywheelSimulator
import FlywheelSQLite
import FlywheelStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

let firstDay = 20_454  // 2026-01-01

/// A fresh SQLite-backed Flywheel.
func freshFlywheel() async throws -> (Flywheel, PrometheusCollectorRegistry) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-sandbox-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let store = try SQLiteStore(path: dir.appendingPathComponent("s.sqlite").path)
    try await store.migrate()
    return makeFlywheel(store: store, logger: Logger(label: "test"))
}

/// Every output of a run, as bytes: what "the same events byte for byte" is checked on.
func digest(_ outputs: [PlatformOutput]) -> String {
    var hasher = SHA256()
    for output in outputs {
        switch output {
        case .delivery(let d): hasher.update(data: Array(d.msgId.utf8) + d.body + Array(d.signature.utf8))
        case .sync(let account, let event): hasher.update(data: Array("\(account)|\(EventImport.line(event, account: nil))".utf8))
        }
    }
    return Array(hasher.finalize()).map { String(format: "%02x", $0) }.joined()
}

func run(_ preset: Preset, people: Int, days: Int, seed: UInt64) -> [PlatformOutput] {
    var world = World(preset: preset, population: people, seed: seed)
    var sandbox = Sandbox(clientKey: "ck", clientSecret: "secret", accountOpenIds: preset.accounts.indices.map { "acct-\($0)" }, seed: seed)
    return (0..<days).flatMap { sandbox.outputs(world.simulate(day: firstDay + $0).events) }
}

@Suite struct SandboxTests {
    @Test func theSameSeedGivesTheSameBytesAndAnotherSeedOthers() {
        let a = run(.liquor, people: 2_000, days: 20, seed: 7)
        #expect(a.count > 1_000)
        #expect(digest(a) == digest(run(.liquor, people: 2_000, days: 20, seed: 7)))
        #expect(digest(a) != digest(run(.liquor, people: 2_000, days: 20, seed: 8)))
    }

    @Test func pushesAreWhatThePlatformSendsRepeatedAndReorderedAtTheirRates() throws {
        let outputs = run(.usedCar, people: 4_000, days: 30, seed: 3)
        let deliveries = outputs.compactMap { if case .delivery(let d) = $0 { d } else { nil } }
        #expect(deliveries.count > 500)
        var events = Set<String>(), stringContent = Set<String>()
        for d in deliveries {
            #expect(WebhookSignature.isValid(d.signature, body: d.body, secret: "secret"))
            let envelope = try WebhookEnvelope.decode(d.body)
            events.insert(envelope.event)
            let raw = try #require(try JSONSerialization.jsonObject(with: Data(d.body)) as? [String: Any])
            if raw["content"] is String { stringContent.insert(envelope.event) }
            #expect(!envelope.platformEvent.fanEvents(accountOpenId: envelope.toUserId.hasPrefix("acct-") ? envelope.toUserId : envelope.fromUserId,
                                        eventId: d.msgId, receivedAt: 0).isEmpty, "\(envelope.event) means something")
        }
        #expect(events.isSuperset(of: ["new_follow_action", "new_video_digg", "item_comment_reply", "im_receive_msg", "im_enter_direct_msg",
                                       "group_fans_event", "im_group_receive_msg", "pay_success"]))
        #expect(stringContent == ["new_follow_action", "new_video_digg", "im_enter_direct_msg", "group_fans_event", "pay_success"], "content as a JSON string where the platform sends one")
        let repeats = deliveries.count - Set(deliveries.map(\.msgId)).count
        #expect(Double(repeats) / Double(deliveries.count) > 0.005 && Double(repeats) / Double(deliveries.count) < 0.05, "about 2% repeated")
        let times = deliveries.map { try? WebhookEnvelope.decode($0.body).platformEvent.fanEvents(accountOpenId: "acct-0", eventId: "", receivedAt: 0).first?.occurredAt }
        let late = zip(times, times.dropFirst()).filter { ($0 ?? 0) > ($1 ?? .max) }.count
        #expect(late > 0, "some pushes arrive out of order")
    }

    @Test func aHealthierPrivateDomainEarnsMorePublicReach() {
        func reach(engagement: Double) -> (arrivals: Int, health: Double) {
            var world = World(preset: .liquor, population: 20_000, seed: 5)
            world.engagement = engagement
            var arrivals = 0, health = 0.0
            for d in 0..<60 {
                let reports = world.simulate(day: firstDay + d).reports
                arrivals += reports.reduce(0) { $0 + $1.publicArrivals }
                if d == 59 { health = reports.map(\.health).reduce(0, +) / Double(reports.count) }
            }
            return (arrivals, health)
        }
        let healthy = reach(engagement: 1), neglected = reach(engagement: 0.2)
        #expect(healthy.health > neglected.health * 1.5)
        #expect(Double(healthy.arrivals) > Double(neglected.arrivals) * 1.1, "\(healthy) vs \(neglected)")
    }

    @Test func fansPushedTooOftenUnfollow() {
        func unfollows(touches: Int) -> Int {
            var world = World(preset: .photoStudio, population: 3_000, seed: 9)
            world.touchesPerWeek = touches
            return (0..<45).reduce(0) { sum, d in sum + world.simulate(day: firstDay + d).events.filter { $0.event.kind == .unfollow }.count }
        }
        #expect(unfollows(touches: 12) > unfollows(touches: 2) * 3)
    }

    @Test(arguments: Preset.all)
    func eachPresetShowsItsQuadrant(_ preset: Preset) {
        var world = World(preset: preset, population: 4_000, seed: 11)
        var orders: [String: Int] = [:]
        var gmv = 0.0, storeGMV = 0.0
        for d in 0..<120 {
            for e in world.simulate(day: firstDay + d).events.map(\.event) where e.kind == .orderPaid {
                orders[e.openId, default: 0] += 1
                gmv += Double(e.amount)
                if e.attributes["via"] == "store" { storeGMV += Double(e.amount) }
            }
        }
        let repurchase = Double(orders.values.filter { $0 >= 2 }.count) / Double(max(orders.count, 1))
        let offline = storeGMV / max(gmv, 1)
        #expect(orders.count > 20, "\(preset.name) sells")
        if preset.quadrant.hasPrefix("high frequency") {
            #expect(repurchase > 0.2, "\(preset.name): repurchase \(repurchase)")
        } else {
            #expect(repurchase < 0.1, "\(preset.name): repurchase \(repurchase)")
        }
        if preset.quadrant.hasSuffix("low online") {
            #expect(offline > 0.6, "\(preset.name): GMV through leads and the store \(offline)")
        } else {
            #expect(offline < 0.2, "\(preset.name): GMV through leads and the store \(offline)")
        }
    }

    @Test func theWebhookPathAndTheDirectPathGiveTheSameFans() async throws {
        let (direct, _) = try await freshFlywheel()
        let (served, registry) = try await freshFlywheel()
        let (a, _) = try await PresetEnterprise.setUp(direct, preset: .careerEducation, seed: 4)
        let (b, key) = try await PresetEnterprise.setUp(served, preset: .careerEducation, seed: 4)
        var world = World(preset: .careerEducation, population: 800, seed: 4)
        var sandbox = a.sandbox(duplicateRate: 0.05, reorderRate: 0.05)
        let days = (0..<14).map { sandbox.outputs(world.simulate(day: firstDay + $0).events) }
        let app = buildApplication(served, registry: registry, settings: ServerSettings(runProjector: false))
        try await app.test(.live) { client in
            for outputs in days {
                _ = try await a.feed(outputs, into: direct)
                var lines: [Int: [String]] = [:]
                for output in outputs {
                    switch output {
                    case .delivery(let delivery):
                        let status = try await client.execute(uri: "/webhooks/douyin", method: .post, headers: [
                            .contentType: "application/json", HTTPField.Name("X-Douyin-Signature")!: delivery.signature, HTTPField.Name("Msg-Id")!: delivery.msgId,
                        ], body: ByteBuffer(bytes: delivery.body)) { $0.status }
                        #expect(status == .ok)
                    case .sync(let account, let event):
                        lines[account, default: []].append(EventImport.line(event, account: nil))
                    }
                }
                for (account, lines) in lines {
                    let status = try await client.execute(uri: "/v1/accounts/\(b.accounts[account].id)/events", method: .post,
                                                          headers: [.authorization: "Bearer \(key!)", .contentType: "application/x-ndjson"],
                                                          body: ByteBuffer(string: lines.joined(separator: "\n"))) { $0.status }
                    #expect(status == .accepted)
                }
            }
        }
        await direct.projector.drain()
        await served.projector.drain()
        var compared = 0
        for (x, y) in zip(a.accounts, b.accounts) {
            let left = try await allFans(direct, x), right = try await allFans(served, y)
            #expect(left == right, "\(x.name)")
            compared += left.count
        }
        #expect(compared > 100)
    }

    func allFans(_ flywheel: Flywheel, _ account: Account) async throws -> [String: FanState] {
        var fans: [String: FanState] = [:]
        var cursor: String?
        repeat {
            let page = try await flywheel.env.store.fans(of: account, matching: nil, now: 0, cursor: cursor, limit: 500)
            for fan in page.items { fans[fan.openId] = fan }
            cursor = page.nextCursor
        } while cursor != nil
        return fans
    }
}
