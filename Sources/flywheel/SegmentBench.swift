import ArgumentParser
import FlywheelDomain
import FlywheelEngine
import FlywheelPostgres
import FlywheelServer
import FlywheelSimulator
import FlywheelSQLite
import FlywheelStore
import Foundation
import Logging

struct SegmentBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segments",
        abstract: "Project N fans, then time the preview (in-memory scan, and the SQL count a new segment's build runs) of 10 segment shapes and the incremental cost per changed fan.")
    @Option(help: "Fans in the account.") var fans = 1_000_000
    @OptionGroup var target: BenchTarget

    static let shapes = [
        "following", "tier >= liking", "level between 3 and 8 and following", "first_domain = commercial and not following",
        "first_channel in (dou_plus, brand_ad, qianchuan) or latest_channel = live_feed", "orders >= 2 or gmv >= 100000",
        "last_active within 30d and interactions >= 5", "not ordered within 90d and gender = female and age_band in (\"24-30\", \"31-40\")",
        "nickname matches \"^fan-1\" or interests has 白酒", "not (tier = potential or last_active within 7d) and live_minutes > 60",
    ]

    /// Arrival attributes: a nickname for some, a profile for most, as the platform and lead cards give them.
    static func profile(_ i: Int) -> [String: String] {
        var attributes = i % 7 == 0 ? ["nickname": "fan-\(i)"] : [:]
        guard i % 10 != 0 else { return attributes }
        attributes["gender"] = i % 3 == 0 ? "male" : "female"
        attributes["age_band"] = FanProfile.ageBands[i % FanProfile.ageBands.count]
        attributes["city"] = ["成都", "北京", "上海", "贵阳", "深圳"][i % 5]
        attributes["device"] = i % 4 == 0 ? "ios" : "android"
        attributes["interests"] = ["白酒", "美食, 旅行", "白酒, 茶", "数码"][i % 4]
        return attributes
    }

    func run() async throws {
        let (store, cleanup) = try await target.open(logger: Logger(label: "bench"))
        defer { cleanup() }
        let (flywheel, _) = makeFlywheel(store: store, logger: Logger(label: "bench"))
        let account = try await DemoSetup.account(flywheel, tenantName: "Bench", accountName: "bench", openId: "bench-account").account

        // Every fan arrives once, then a skewed population acts: a realistic spread of tiers and levels.
        let start = flywheel.env.now() - 120 * 86_400_000
        let arrivals = (0..<fans).map { i in
            // The same open_ids the synthetic traffic uses, so its events land on these fans.
            FanEvent(id: "arrive-\(i)", kind: .videoView, openId: "b-fan-\(i)", occurredAt: start + Int64(i) * 1_000,
                     channel: SyntheticTraffic.arrivalChannel(i), attributes: Self.profile(i))
        }
        let activity = SyntheticTraffic(fans: fans, days: 100, start: start + Int64(fans) * 1_000, seed: 9).events(count: fans, idPrefix: "b")
        let progress = Progress(label: "loading", total: arrivals.count + activity.count)
        var done = 0
        for chunk in [arrivals, activity] {
            for from in stride(from: 0, to: chunk.count, by: 50_000) {
                let part = chunk[from..<min(from + 50_000, chunk.count)].map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }
                _ = try await store.append(part) { _ in }
                done += part.count
                progress.update(done)
            }
        }
        await flywheel.projector.drain()
        progress.finish()
        let total = try await store.tierCounts(of: account).values.reduce(0, +)
        print("\(total) fans projected")

        let now = flywheel.env.now()
        let memoryBefore = residentBytes()
        let loading = ContinuousClock.now
        try await flywheel.fanScan.warm([account])
        print(String(format: "preview table loaded (at start, in the background, by the server): %.0f ms, %d bytes per fan held",
                     (ContinuousClock.now - loading).milliseconds, (residentBytes() - memoryBefore) / max(total, 1)))
        var predicates: [FanPredicate] = []
        for shape in Self.shapes {
            let predicate = try FanPredicate.parse(shape)
            predicates.append(predicate)
            let clock = ContinuousClock.now
            let result = try await flywheel.fanScan.preview(predicate, of: account, now: now, sample: 10)
            let ms = (ContinuousClock.now - clock).milliseconds
            let sqlClock = ContinuousClock.now
            let counted = try await store.countFans(of: account, matching: predicate, now: now)
            let sqlMs = (ContinuousClock.now - sqlClock).milliseconds
            guard counted == result.count else { throw ValidationError("the scan and SQL disagree on \(shape): \(result.count) vs \(counted)") }
            print(String(format: "preview %7.1f ms  (SQL count %7.1f ms)  %8d fans  %@", ms, sqlMs, result.count, shape))
        }

        // Incremental: every segment evaluated against a batch of changed fans, as the projector does.
        let sample = try await store.fans(of: account, matching: nil, now: now, cursor: nil, limit: 500).items
        let segments = predicates.enumerated().map { Segment(tenantId: account.tenantId, accountId: account.id, id: "s\($0.offset)", name: "s", predicate: $0.element, state: .ready, createdAt: 0, updatedAt: 0) }
        let rounds = 200
        let calendar = account.calendar
        let clock = ContinuousClock.now
        var changes = 0
        for _ in 0..<rounds {
            changes += Projector.segmentChanges(segments, memberships: [:], fans: sample, causes: [], otherwise: ("bench", 0, now), calendar: calendar, now: now).count
        }
        let perFanPerSegment = (ContinuousClock.now - clock).milliseconds * 1_000_000 / Double(rounds * sample.count * segments.count)
        print(String(format: "incremental: %.0f ns per changed fan per segment (%d fans x %d segments x %d rounds, %d changes) — budget 50,000 ns",
                     perFanPerSegment, sample.count, segments.count, rounds, changes / rounds))
        print("peak memory: \(peakMemoryMB()) MB")
    }
}
