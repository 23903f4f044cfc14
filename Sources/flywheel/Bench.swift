import ArgumentParser
import FlywheelEngine
import FlywheelPostgres
import FlywheelServer
import FlywheelSimulator
import FlywheelSQLite
import FlywheelStore
import Foundation
import Logging

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure Flywheel against the budgets in docs/architecture.md and print the figures.",
                                                    subcommands: [IngestBench.self, WebhookBench.self, MemoryBench.self, SegmentBench.self, ConsoleBench.self, SoakBench.self])
}

struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Append N synthetic events to a fresh SQLite file and project them; prints events/s and peak memory.")
    @Option(help: "Events to generate.") var events = 1_000_000
    @Option(help: "Fans in the population (default: one per 20 events).") var fans: Int?
    @Option(help: "Days the events span.") var days = 90
    @Option(help: "Events per append transaction.") var appendBatch = 50_000
    @Option(help: "Most events per projection batch.") var projectBatch = Flywheel.defaultProjectionBatch
    @Flag(help: "Project after the append instead of beside it, to time each phase alone.") var sequential = false
    @Flag(help: "Also compute per-fan state from the same events with plain SQL on the same store, and compare.") var baseline = false
    @Option(help: "Seed for the synthetic population.") var seed: UInt64 = 1
    @OptionGroup var target: BenchTarget

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        guard appendBatch > 0, projectBatch > 0 else { throw ValidationError("batch sizes must be positive") }
    }

    func run() async throws {
        let (store, cleanup) = try await target.open(logger: Logger(label: "bench"))
        defer { cleanup() }
        let (flywheel, _) = makeFlywheel(store: store, logger: Logger(label: "bench"))
        let flywheelAlt = Flywheel(flywheel.env, projectionBatchSize: projectBatch)
        let account = try await DemoSetup.account(flywheel, tenantName: "Bench", accountName: "bench", openId: "bench-account").account

        let population = fans ?? max(1, events / 20)
        var clock = Date()
        let traffic = SyntheticTraffic(fans: population, days: days, start: flywheel.env.now() - Int64(days) * 86_400_000, seed: seed)
        let generated = traffic.events(count: events).map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }
        print("generated \(events) events over \(population) fans in \(String(format: "%.2f", Date().timeIntervalSince(clock))) s")

        // The projector runs beside the appends, as it does in the server; `--sequential` waits.
        clock = Date()
        let projector = flywheelAlt.projector
        let appending = Progress(label: "appending", total: events)
        let projecting = Task {
            var projected = 0
            while !Task.isCancelled {
                let n = await projector.runOnce()
                projected += n
                if n == 0 { try? await Task.sleep(for: .milliseconds(5)) }
            }
            return projected
        }
        if sequential { projecting.cancel() }
        var done = 0
        for start in stride(from: 0, to: generated.count, by: appendBatch) {
            let chunk = Array(generated[start..<min(start + appendBatch, generated.count)])
            _ = try await store.append(chunk) { _ in }
            done += chunk.count
            appending.update(done)
        }
        appending.finish()
        let appendSeconds = Date().timeIntervalSince(clock)
        projecting.cancel()
        let concurrent = await projecting.value
        // Caught up when a run after the last append finds nothing.
        let catchUp = Date()
        var projected = concurrent
        while case let n = await projector.runOnce(), n > 0 { projected += n }
        let endSeconds = Date().timeIntervalSince(clock)
        let projectSeconds = Date().timeIntervalSince(catchUp)
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

/// The process's peak resident memory in MB.
func peakMemoryMB() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) / 1024
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
