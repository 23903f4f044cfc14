import ArgumentParser
import AsyncHTTPClient
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelSandbox
import FlywheelServer
import FlywheelSimulator
import FlywheelStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate an industry's enterprise on the sandbox platform, into a running server or straight into a store.",
        discussion: """
            Presets: \(Preset.all.map { "\($0.name) (\($0.quadrant))" }.joined(separator: ", ")). The same preset, fans, days and \
            seed give the same events byte for byte; running again changes nothing (the platform's Msg-Ids are remembered).
            """)
    @Option(help: "Industry preset.") var preset: String
    @Option(help: "People in the simulated population.") var fans = 3_000
    @Option(help: "Days to simulate, ending yesterday.") var days = 90
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Deliver over HTTP to a running server.", valueName: "url")) var to: String?
    @Option(help: "API key (owner or admin) for --to; the enterprise's apps and accounts are created under its tenant.") var key: String?
    @Option(help: ArgumentHelp("Write straight into this SQLite file instead.", valueName: "path")) var db: String?
    @Option(help: "Share of pushes the platform repeats.") var duplicates = 0.02
    @Option(help: "Share of pushes delivered out of order.") var reorder = 0.02

    func validate() throws {
        guard Preset.named(preset) != nil else {
            throw ValidationError("unknown preset '\(preset)'; one of \(Preset.all.map(\.name).joined(separator: ", "))")
        }
        guard (to == nil) != (db == nil) else { throw ValidationError("give exactly one of --to URL (with --key) and --db PATH") }
        if to != nil, key == nil { throw ValidationError("--to needs --key, an owner or admin API key of the tenant to simulate into") }
        guard fans > 0, days > 0 else { throw ValidationError("--fans and --days must be positive") }
        guard (0...0.5).contains(duplicates), (0...0.5).contains(reorder) else { throw ValidationError("--duplicates and --reorder are shares from 0 to 0.5") }
    }

    func run() async throws {
        guard let preset = Preset.named(preset) else { return }
        let started = Date()
        var world = World(preset: preset, population: fans, seed: seed)
        let today = AccountCalendar(timeZone: TimeZone(identifier: AccountCalendar.defaultTimeZone) ?? .gmt).day(ofMillis: Int64(Date().timeIntervalSince1970 * 1000))
        let progress = Progress(label: "simulating \(preset.name)", total: days)
        var summary = SimulationSummary()
        // The one loop; only the door differs: straight into a store, or over HTTP.
        let deliver: ([PlatformOutput]) async throws -> PresetEnterprise.Fed
        var finish: () async -> Void = {}
        var client: HTTPClient?
        defer { _ = client?.shutdown() }
        if let db {
            let store = try await openStore(path: db)
            let (flywheel, _) = makeFlywheel(store: store, logger: Logger(label: "flywheel"))
            let (enterprise, ownerKey) = try await PresetEnterprise.setUp(flywheel, preset: preset, seed: seed)
            if let ownerKey { print("created \(preset.enterprise) (tenant \(enterprise.tenant.id)); owner API key: \(ownerKey)") }
            deliver = { try await enterprise.feed($0, into: flywheel) }
            finish = { await flywheel.projector.drain() }
        } else if let to, let key {
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            client = http
            let remote = RemoteEnterprise(client: http, base: to.hasSuffix("/") ? String(to.dropLast()) : to, key: key)
            let accounts = try await remote.setUp(preset: preset, seed: seed)
            deliver = { try await remote.send($0, accounts: accounts) }
        } else {
            return
        }
        var sandbox = PresetEnterprise.sandbox(preset, seed: seed, duplicateRate: duplicates, reorderRate: reorder)
        for d in 0..<days {
            let (events, _) = world.simulate(day: today - days + d)
            summary.add(events)
            let fed = try await deliver(sandbox.outputs(events))
            summary.deliveries += fed.deliveries
            summary.repeats += fed.repeats
            progress.update(d + 1)
        }
        await finish()
        progress.finish()
        print(summary.line(preset: preset, fans: fans, days: days, seconds: Date().timeIntervalSince(started)))
    }
}

/// What a simulation produced, for the one-line summary.
struct SimulationSummary {
    var events = 0, deliveries = 0, repeats = 0, follows = 0, orders = 0
    var gmvFen: Int64 = 0

    mutating func add(_ events: [WorldEvent]) {
        self.events += events.count
        for e in events.map(\.event) {
            switch e.kind {
            case .follow: follows += 1
            case .orderPaid: orders += 1; gmvFen += e.amount
            case .orderRefunded: gmvFen -= e.amount
            default: break
            }
        }
    }

    func line(preset: Preset, fans: Int, days: Int, seconds: Double) -> String {
        String(format: "%@: %d days, %d people, %d events (%d pushes, %d repeated), %d follows, %d orders, GMV ¥%.0f, in %.1f s",
               preset.name, days, fans, events, deliveries, repeats, follows, orders, Double(gmvFen) / 100, seconds)
    }
}

/// A preset's enterprise on a running server, reached over HTTP with an API key: pushes go to the
/// webhook, synced records to each account's events endpoint.
final class RemoteEnterprise {
    let client: HTTPClient
    let base: String
    let key: String
    /// Msg-Ids pushed so far: a push sent again is a repeat (the server answers it 200 and counts it once).
    var pushed = Set<String>()

    init(client: HTTPClient, base: String, key: String) {
        self.client = client
        self.base = base
        self.key = key
    }

    func call(_ method: HTTPMethod, _ path: String, body: [UInt8], contentType: String = "application/json") async throws -> (Int, [String: Any]) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(60))
        let data = try await response.body.collect(upTo: 16 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: data))) as? [String: Any] ?? [:]
        return (Int(response.status.code), object)
    }

    func json(_ object: [String: Any]) -> [UInt8] { Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data()) }

    /// The app and accounts of this preset and seed under the key's tenant, created when missing;
    /// returns the account ids by the world's account index.
    func setUp(preset: Preset, seed: UInt64) async throws -> [String] {
        let clientKey = PresetEnterprise.clientKey(preset, seed: seed)
        let (_, apps) = try await call(.GET, "/v1/apps", body: [])
        var appId = (apps["items"] as? [[String: Any]])?.first { $0["clientKey"] as? String == clientKey }?["id"] as? String
        if appId == nil {
            let (status, made) = try await call(.POST, "/v1/apps", body: json(["name": "\(preset.enterprise) app", "clientKey": clientKey,
                                                                                "clientSecret": PresetEnterprise.clientSecret(preset, seed: seed)]))
            guard status == 201 else { throw ValidationError("could not create the app: \(made["error"] ?? status)") }
            appId = made["id"] as? String
        }
        let (_, listed) = try await call(.GET, "/v1/accounts", body: [])
        let existing = listed["items"] as? [[String: Any]] ?? []
        var ids: [String] = []
        for (i, name) in preset.accounts.enumerated() {
            let openId = PresetEnterprise.accountOpenId(preset, seed: seed, index: i)
            if let id = existing.first(where: { $0["openId"] as? String == openId })?["id"] as? String {
                ids.append(id)
                continue
            }
            let (status, made) = try await call(.POST, "/v1/accounts", body: json(["name": name, "appId": appId ?? "", "openId": openId]))
            guard status == 201, let id = made["id"] as? String else { throw ValidationError("could not create account \(name): \(made["error"] ?? status)") }
            ids.append(id)
        }
        return ids
    }

    func send(_ outputs: [PlatformOutput], accounts: [String]) async throws -> PresetEnterprise.Fed {
        var fed = PresetEnterprise.Fed()
        var synced: [Int: [String]] = [:]
        for output in outputs {
            switch output {
            case .delivery(let d):
                var request = HTTPClientRequest(url: base + "/webhooks/douyin")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "X-Douyin-Signature", value: d.signature)
                request.headers.add(name: "Msg-Id", value: d.msgId)
                request.body = .bytes(ByteBuffer(bytes: d.body))
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 16)
                guard response.status == .ok else { throw ValidationError("the webhook answered \(response.status.code)") }
                if pushed.insert(d.msgId).inserted { fed.deliveries += 1 } else { fed.repeats += 1 }
            case .sync(let account, let event):
                synced[account, default: []].append(EventImport.line(event, account: nil))
            }
        }
        for (account, lines) in synced.sorted(by: { $0.key < $1.key }) {
            let (status, result) = try await call(.POST, "/v1/accounts/\(accounts[account])/events", body: Array(lines.joined(separator: "\n").utf8),
                                                  contentType: "application/x-ndjson")
            guard status == 202 else { throw ValidationError("the events endpoint answered \(status): \(result["error"] ?? "")") }
            fed.events += result["appended"] as? Int ?? 0
        }
        return fed
    }
}
