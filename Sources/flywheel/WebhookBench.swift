import ArgumentParser
import AsyncHTTPClient
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelPostgres
import FlywheelServer
import FlywheelSQLite
import FlywheelStore
import Foundation
import Hummingbird
import Logging
import NIOCore

struct WebhookBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Post N signed platform deliveries to a real server on loopback; prints deliveries/s and p50/p99 latency.")
    @Option(help: "Deliveries to send.") var deliveries = 50_000
    @Option(help: "Requests in flight at once.") var concurrency = 64
    @OptionGroup var target: BenchTarget
    @Flag(inversion: .prefixedNo, help: "Run the projector in the server during the run, as in production.") var projector = true

    func validate() throws {
        guard deliveries > 0, (1...1_024).contains(concurrency) else { throw ValidationError("--deliveries must be positive and --concurrency 1 to 1024") }
    }

    func run() async throws {
        var logger = Logger(label: "bench")
        // Stopping the server at the end cancels its open connections; that is not worth a log line.
        logger.logLevel = .critical
        let (store, cleanup) = try await target.open(logger: logger)
        defer { cleanup() }
        let (flywheel, registry) = makeFlywheel(store: store, logger: logger)
        let (app, account) = try await DemoSetup.account(flywheel, tenantName: "Bench", accountName: "bench", openId: "bench-account")
        let port = Int.random(in: 40_000..<50_000)
        let server = Task { try await buildApplication(flywheel, registry: registry, settings: ServerSettings(port: port, runProjector: projector)).runService() }
        defer { server.cancel() }

        let bodies = Self.bodies(count: deliveries, app: app, account: account)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await Self.waitForServer(client, port: port)
        try await client.shutdown()
        print("\(deliveries) deliveries, \(concurrency) in flight, projector \(projector ? "running" : "off")")

        let requests = bodies.enumerated().map { i, delivery in
            LoopbackPoster.post("/webhooks/douyin", headers: [("Content-Type", "application/json"), ("X-Douyin-Signature", delivery.signature),
                                                              ("Msg-Id", "bench-\(i)")], body: delivery.body)
        }
        let started = ContinuousClock.now
        let cpu = cpuSeconds()
        let results = try await LoopbackPoster(port: port).run(requests, connections: concurrency)
        let seconds = (ContinuousClock.now - started).milliseconds / 1000
        let sorted = results.latencies.sorted()
        func percentile(_ p: Double) -> String { String(format: "%.2f ms", sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) }
        print(String(format: "webhook: %.0f deliveries/s (%.2f s), p50 %@, p99 %@, max %@; %d refused — budget 10000/s, p99 < 20 ms",
                     Double(deliveries) / seconds, seconds, percentile(0.5), percentile(0.99), percentile(1.0), results.failures))
        print(cpuLine(since: cpu, per: deliveries, "a delivery", "server, client\(projector ? ", projector and the other services" : "") together"))
        guard projector else {
            print("peak memory \(peakMemoryMB()) MB")
            return
        }
        // The projector keeps running: how long after the last acknowledgement every event is applied.
        let ended = ContinuousClock.now
        while try await !store.accountsNeedingProjection().isEmpty, ContinuousClock.now - ended < .seconds(30) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let caughtUp = try await store.accountsNeedingProjection().isEmpty
            ? String(format: "all projected %.0f ms after the last delivery", (ContinuousClock.now - ended).milliseconds)
            : "projection still behind 30 s after the last delivery"
        print("after the run: \(caughtUp); peak memory \(peakMemoryMB()) MB")
    }

    /// A mix of the platform's pushes: follows (content as a string), likes, direct messages (content as an object).
    static func bodies(count: Int, app: PlatformApp, account: Account) -> [(body: [UInt8], signature: String)] {
        (0..<count).map { i in
            let fan = "fan-\(i % max(1, count / 10))"
            let time = 1_767_225_600 + i
            let text: String
            switch i % 3 {
            case 0:
                text = #"{"event":"new_follow_action","client_key":"\#(app.clientKey)","from_user_id":"\#(fan)","to_user_id":"\#(account.openId)","content":"{\"action_type\":1,\"action_time\":\#(time)}"}"#
            case 1:
                text = #"{"event":"new_video_digg","client_key":"\#(app.clientKey)","from_user_id":"\#(fan)","to_user_id":"\#(account.openId)","content":"{\"action_type\":1,\"action_time\":\#(time),\"item_id\":\"v\#(i % 50)\"}"}"#
            default:
                text = #"{"event":"im_receive_msg","client_key":"\#(app.clientKey)","from_user_id":"\#(fan)","to_user_id":"\#(account.openId)","content":{"conversation_short_id":"c\#(i)","server_message_id":"m\#(i)","conversation_type":1,"create_time":\#(time)000,"message_type":"text","source":"","text":"价格多少"}}"#
            }
            let body = Array(text.utf8)
            return (body, WebhookSignature.sign(body: body, secret: app.clientSecret))
        }
    }

    static func waitForServer(_ client: HTTPClient, port: Int) async throws {
        for _ in 0..<100 {
            if let response = try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(1)),
               response.status == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CommandFailure("the server on port \(port) did not come up; is the port free?")
    }
}

struct MemoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Hold N projected fans in memory, as a rules change does for a whole account; prints bytes per fan.")
    @Option(help: "Fans to hold.") var fans = 1_000_000

    func run() async throws {
        let before = residentBytes()
        var held: [String: FanState] = [:]
        held.reserveCapacity(fans)
        let rules = AccountRules.standard.compiled(calendar: AccountCalendar(timeZone: .gmt))
        for i in 0..<fans {
            let event = FanEvent(id: "e\(i)", kind: i % 3 == 0 ? .follow : .like, openId: "fan-\(i)-7b1e2c", occurredAt: 1_767_225_600_000 + Int64(i),
                                 channel: .recommendFeed)
            var fan = FanState(firstSeenThrough: event)
            _ = fan.apply(event, rules: rules, day: 20_454)
            held[fan.openId] = fan
        }
        let after = residentBytes()
        print("memory: \(fans) fans held, \((after - before) / max(fans, 1)) bytes per fan (MemoryLayout stride \(MemoryLayout<FanState>.stride) + strings and table) — budget 1024")
        withExtendedLifetime(held) {}
    }
}

/// Resident set size now, from /proc (Linux).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
