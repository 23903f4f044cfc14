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
import Synchronization

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure Flywheel against the budgets in docs/architecture.md and print the figures.",
                                                    subcommands: [IngestBench.self, ImportBench.self, WebhookBench.self, DeskBench.self, MemoryBench.self, SegmentBench.self, ConsoleBench.self, SoakBench.self])
}

struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Append N synthetic events while the projector takes whole batches beside, as `flywheel import` does; prints events/s end to end, the plain-SQL baseline (--baseline) and peak memory.")
    @OptionGroup var synthetic: SyntheticEvents
    @Option(help: "Events per append transaction.") var appendBatch = 50_000
    @Option(help: "Most events per projection batch.") var projectBatch = Flywheel.defaultProjectionBatch
    @Flag(help: "Project after the append instead of beside it, to time each phase alone.") var sequential = false
    @Flag(help: "Also compute per-fan state from the same events with plain SQL on the same store, and compare.") var baseline = false
    @OptionGroup var target: BenchTarget

    var events: Int { synthetic.events }

    func validate() throws {
        guard appendBatch > 0, projectBatch > 0 else { throw ValidationError("batch sizes must be positive") }
    }

    func run() async throws {
        let (store, cleanup) = try await target.open(logger: Logger(label: "bench"))
        defer { cleanup() }
        let (flywheel, _) = makeFlywheel(store: store, logger: Logger(label: "bench"))
        let account = try await DemoSetup.account(flywheel, tenantName: "Bench", accountName: "bench", openId: "bench-account").account
        try await Self.keepBusy(account, flywheel.env)

        var clock = Date()
        let generated = synthetic.generate(now: flywheel.env.now()).map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }
        print("generated \(events) events over \(synthetic.population) fans in \(String(format: "%.2f", Date().timeIntervalSince(clock))) s")

        // The projector takes whole batches beside the appends, as an import does; `--sequential` waits.
        clock = Date()
        let cpu = cpuSeconds()
        let projector = Projector(flywheel.env, batchSize: projectBatch)
        let appending = Progress(label: "appending", total: events)
        let alongside = sequential ? nil : ProjectingAlongside(projector)
        var done = 0
        for start in stride(from: 0, to: generated.count, by: appendBatch) {
            let chunk = Array(generated[start..<min(start + appendBatch, generated.count)])
            let stored = try await store.append(chunk) { _ in }.inserted
            alongside?.appended(stored)
            done += chunk.count
            appending.update(done)
        }
        appending.finish()
        let appendSeconds = Date().timeIntervalSince(clock)
        let concurrent = await alongside?.finish() ?? 0
        if sequential { await projector.drain() }
        let endSeconds = Date().timeIntervalSince(clock)
        let projectSeconds = endSeconds - appendSeconds
        let counts = try await store.tierCounts(of: account)
        let fanTotal = counts.values.reduce(0, +)

        func rate(_ seconds: Double) -> String { String(format: "%.0f events/s (%.2f s)", Double(events) / seconds, seconds) }
        print("append (durable, deduplicated): \(rate(appendSeconds))")
        if sequential {
            print("projection (fan state, tiers, rollups, segments, auto-tags), after the append: \(rate(projectSeconds))")
        } else {
            print(String(format: "projection beside the append: %d events by the last append, the rest %.2f s after it", concurrent, projectSeconds))
        }
        print("end to end: \(rate(endSeconds)) — budget 200000 events/s")
        print(cpuLine(since: cpu, per: events, "an event", "append and projection"))
        if baseline, let sql = store as? any SQLStore {
            let offset = Int64(account.calendar.timeZone.secondsFromGMT())
            let plain = try await PlainSQLBaseline(runner: sql.runner, utcOffsetSeconds: offset).run(generated.map(\.event), chunk: appendBatch)
            let plainSeconds = plain.load + plain.derive
            print("plain SQL baseline: load \(rate(plain.load)), derive \(rate(plain.derive)), end to end \(rate(plainSeconds)); \(plain.fans) fans")
            print(String(format: "Flywheel end to end / plain SQL end to end: %.2f", plainSeconds / endSeconds))
        }
        print("fans projected: \(fanTotal); by tier: " + counts.sorted { $0.key < $1.key }.map { "\($0.key.name) \($0.value)" }.joined(separator: ", "))
        print("peak memory: \(peakMemoryMB()) MB")
    }
}

struct ImportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Write N synthetic events as an NDJSON file, then time `flywheel import` of it: events/s end to end and peak memory.")
    @OptionGroup var synthetic: SyntheticEvents
    @OptionGroup var target: BenchTarget

    func run() async throws {
        let (store, cleanup) = try await target.open(logger: Logger(label: "bench"))
        defer { cleanup() }
        let (flywheel, _) = makeFlywheel(store: store, logger: Logger(label: "bench"))
        let account = try await DemoSetup.account(flywheel, tenantName: "Bench", accountName: "bench", openId: "bench-account").account
        try await IngestBench.keepBusy(account, flywheel.env)
        var file = Data()
        for event in synthetic.generate(now: flywheel.env.now()) {
            file.append(contentsOf: EventImport.line(event, account: account.id).utf8)
            file.append(UInt8(ascii: "\n"))
        }
        print("wrote \(synthetic.events) lines (\(file.count / 1_048_576) MiB)")
        let cpu = cpuSeconds()
        let summary = try await EventFileImport(store: store, tenant: account.tenantId, account: nil, name: "bench.ndjson").run(file)
        print(summary.line)
        print(String(format: "end to end: %.0f events/s — budget 200000 events/s", Double(synthetic.events) / summary.seconds))
        print(cpuLine(since: cpu, per: synthetic.events, "an event", "parse, append and projection"))
        print("peak memory: \(peakMemoryMB()) MB")
    }
}

/// The synthetic events the ingest and import benches share.
struct SyntheticEvents: ParsableArguments {
    @Option(help: "Events to generate.") var events = 1_000_000
    @Option(help: "Fans in the population (default: one per 20 events).") var fans: Int?
    @Option(help: "Days the events span.") var days = 90
    @Option(help: "Seed for the synthetic population.") var seed: UInt64 = 1
    @Flag(help: "Ids as an import gives lines without one (sha256: and 64 hex digits, as long as real ids) instead of short ones.") var contentIds = false

    var population: Int { fans ?? max(1, events / 20) }

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        guard fans.map({ $0 > 0 }) ?? true, days > 0 else { throw ValidationError("--fans and --days must be positive") }
    }

    /// The events, over the `days` before `now`.
    func generate(now: Int64) -> [FanEvent] {
        let events = SyntheticTraffic(fans: population, days: days, start: now - Int64(days) * 86_400_000, seed: seed).events(count: events)
        guard contentIds else { return events }
        return events.map { event in
            var event = event
            event.id = EventImport.contentId(event, account: nil)
            return event
        }
    }
}

extension IngestBench {
    /// Auto-tag rules and ready segments, so that projection does all it does for a real account.
    static func keepBusy(_ account: Account, _ env: FlywheelEnvironment) async throws {
        let tags = try [("big_spender", "gmv >= 100000"), ("club", "level >= 3 and following")].map { TagRule(tag: $0.0, when: try FanPredicate.parse($0.1)) }
        _ = try await env.store.setRules(AccountRules(tagRules: tags), of: account,
                                         audit: env.audit(tenantId: account.tenantId, actor: "cli", action: "rules.set", target: account.id))
        for (name, text) in [("followers", "following and level >= 2"), ("engaged", "last_active within 30d and interactions >= 5"),
                             ("close", "tier >= liking")] {
            let segment = Segment(tenantId: account.tenantId, accountId: account.id, id: env.newId("seg"), name: name,
                                  predicate: try FanPredicate.parse(text), state: .building, createdAt: env.now(), updatedAt: env.now())
            try await env.store.createSegment(segment, audit: env.audit(tenantId: account.tenantId, actor: "cli", action: "segment.create", target: segment.id))
            _ = try await env.store.buildSegment(id: segment.id, of: account, now: env.now())
        }
        print("account with 2 auto-tag rules and 3 segments kept current")
    }
}

/// The process's peak resident memory in MB.
func peakMemoryMB() -> Int { Int(processUsage().ru_maxrss) / 1024 }

/// CPU time the process has used (user and system, every thread): a cost per event that another
/// process's load on this shared machine moves less than it moves the wall clock.
func cpuSeconds() -> Double {
    let usage = processUsage()
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

private func processUsage() -> rusage {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage
}

/// The CPU a unit of work took, in microseconds, since `start` (a `cpuSeconds()`).
func cpuLine(since start: Double, per count: Int, _ unit: String, _ what: String) -> String {
    let used = cpuSeconds() - start
    return String(format: "CPU: %.1f s (user + system, %@), %.0f µs %@", used, what, used * 1_000_000 / Double(max(count, 1)), unit)
}

/// Where a benchmark runs: a temporary SQLite file, or the PostgreSQL database given (a fresh
/// tenant in it).
struct BenchTarget: ParsableArguments {
    @Option(help: ArgumentHelp("Measure this PostgreSQL database instead of a temporary SQLite file.", valueName: "url"))
    var databaseURL: String?

    /// A migrated store, and what removes the temporary file afterwards.
    func open(logger: Logger) async throws -> (store: any Store, cleanup: @Sendable () -> Void) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-bench-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store: any Store = try databaseURL.map { try PostgresStore(url: $0, logger: logger) }
            ?? SQLiteStore(path: dir.appendingPathComponent("bench.sqlite").path)
        try await store.migrate()
        print("store: \(databaseURL == nil ? "SQLite (temporary file, WAL)" : "PostgreSQL")")
        return (store, { try? FileManager.default.removeItem(at: dir) })
    }
}
