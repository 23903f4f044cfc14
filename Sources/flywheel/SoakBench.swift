import ArgumentParser
import AsyncHTTPClient
import FlywheelDomain
import FlywheelSandbox
import FlywheelServer
import FlywheelSimulator
import FlywheelStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The server under steady load for minutes, as in production: signed pushes on a fixed schedule
/// with the projector running, optionally beside a sign-in flood and stalled uploads. Memory, latency
/// and projector lag are printed every interval, then a verdict (BENCHMARKS.md, "Soak").
struct SoakBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Send signed deliveries at a fixed rate for a set time with the projector running; prints memory, latency and projector lag every interval, then PASS or FAIL.",
        discussion: """
            FAIL (exit status 1) when a delivery is not acknowledged or never sent, when more than 1% of sends start over 50 ms late \
            (the rate was not held), when resident memory grows faster than --max-growth after the first minute, or when the projector is more \
            than 5 s of deliveries behind as the sending stops. The server runs in this process: the memory printed is the server's \
            and the load generator's together.
            """)
    @Option(help: "Deliveries per second, sent on a fixed schedule whatever the answers.") var rate = 1_000
    @Option(help: ArgumentHelp("How long to send.", valueName: "seconds")) var duration = 300
    @Option(help: ArgumentHelp("Time between report lines.", valueName: "seconds")) var interval = 10
    @Option(help: "Deliveries in flight at most; a send that finds them all busy starts late.") var concurrency = 256
    @Option(help: "Distinct fans the pushes come from.") var fans = 100_000
    @Option(help: ArgumentHelp("Also flood console sign-in with wrong passwords from this many connections.", valueName: "connections"))
    var flood = 0
    @Option(help: ArgumentHelp("Sign-in attempts per second across the flood's connections.", valueName: "per-second")) var floodRate = 13.5
    @Option(help: ArgumentHelp("Also hold this many webhook uploads open that announce a 1 MiB body and stop after 1 KiB.", valueName: "connections"))
    var stalled = 0
    @Option(help: ArgumentHelp("Resident memory growth allowed after the first minute.", valueName: "MiB/min")) var maxGrowth = 10.0
    @OptionGroup var target: BenchTarget

    /// A send that starts later than this after its time counts as behind.
    static let onTime = Duration.milliseconds(50)
    /// The share of sends that may be behind: beyond it the run did not hold the rate it claims.
    static let behindAllowed = 0.01
    /// The projector may be this many seconds of deliveries behind when the sending stops.
    static let lagAllowedSeconds = 5
    /// Sends not started this long after the run's end are dropped, so a server far behind cannot keep the bench going.
    static let lateCutoff = Duration.seconds(10)
    /// How long the projector is watched catching up once the sending stops.
    static let catchUpWatch = Duration.seconds(60)

    func validate() throws {
        guard (1...100_000).contains(rate) else { throw ValidationError("--rate must be 1 to 100000 deliveries/s") }
        guard (1...86_400).contains(duration) else { throw ValidationError("--duration must be 1 to 86400 seconds") }
        guard interval >= 1 else { throw ValidationError("--interval must be 1 second or more") }
        guard (1...1_024).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 1024") }
        guard fans >= 1 else { throw ValidationError("--fans must be 1 or more") }
        guard (0...1_000).contains(flood) else { throw ValidationError("--flood must be 0 to 1000 connections") }
        guard floodRate > 0, floodRate.isFinite else { throw ValidationError("--flood-rate must be positive") }
        // Below the server's 2,048 connections with the deliveries and the flood beside them.
        guard (0...1_500).contains(stalled) else { throw ValidationError("--stalled must be 0 to 1500 connections") }
        guard maxGrowth > 0 else { throw ValidationError("--max-growth must be positive") }
    }

    func run() async throws {
        // Values, not `self`, go into the tasks.
        let rate = self.rate, duration = self.duration, interval = self.interval, concurrency = self.concurrency
        let flood = self.flood, floodRate = self.floodRate, stalled = self.stalled
        var logger = Logger(label: "bench")
        // Stopping the server cancels its connections and stalled uploads are closed by design: neither is worth a log line.
        logger.logLevel = .critical
        let (store, cleanup) = try await target.open(logger: logger)
        defer { cleanup() }
        let (flywheel, registry) = makeFlywheel(store: store, logger: logger)
        let (app, account) = try await DemoSetup.account(flywheel, tenantName: "Soak", accountName: "soak", openId: "soak-account")
        let port = Int.random(in: 40_000..<50_000)
        let server = Task { try await buildApplication(flywheel, registry: registry, settings: ServerSettings(port: port, runProjector: true)).runService() }
        defer { server.cancel() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
            connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)))
        do {
            try await WebhookBench.waitForServer(client, port: port)
        } catch {
            try? await client.shutdown()
            throw error
        }

        let planned = rate * duration
        let url = "http://127.0.0.1:\(port)/webhooks/douyin"
        let traffic = SoakTraffic(app: app, account: account, fans: fans)
        let clientKey = app.clientKey
        let tally = SoakTally(seconds: duration)
        let lag: @Sendable () async -> Int? = {
            guard let position = try? await store.projectionPosition(of: account) else { return nil }
            return tally.lag(projected: position.lastSeq)
        }
        let terminal = isatty(STDERR_FILENO) == 1
        let columns = SoakReport.Columns(signIns: flood > 0, stalled: stalled > 0)

        var alongside: [String] = []
        if flood > 0 { alongside.append("a sign-in flood from \(flood) connections at \(String(format: "%.1f", floodRate))/s") }
        if stalled > 0 { alongside.append("\(stalled) stalled uploads") }
        let besides = alongside.isEmpty ? "" : "; alongside: " + alongside.joined(separator: ", ")
        print("soak: \(rate) deliveries/s for \(duration) s (\(planned) in all), at most \(concurrency) in flight, projector running\(besides)")
        print("rss is VmRSS of this one process: the server and the load generator together (the bench runs the server in-process)")
        var legend = ["elapsed", "sent", "acknowledged (2xx)", "errors (non-2xx or transport)", "behind (started over \(Int(Self.onTime.milliseconds)) ms late)",
                      "latency p50/p99/max of the interval", "rss", "projector lag (events stored, not yet projected)"]
        if flood > 0 { legend.append("sign-in answers by status") }
        if stalled > 0 { legend.append("stalled uploads held open") }
        print("each line: " + legend.joined(separator: ", "))
        flushOutput()
        tally.sampleMemory(at: 0)

        let (start, heldAtEnd) = await withTaskGroup(of: Void.self, returning: (ContinuousClock.Instant, Int).self) { background in
            for _ in 0..<stalled {
                background.addTask { await StalledUpload.hold(port: port, clientKey: clientKey, tally: tally) }
            }
            if stalled > 0 {
                let deadline = ContinuousClock.now + .seconds(5)
                while tally.stalledHeld < stalled, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
                print("stalled uploads: \(tally.stalledHeld) of \(stalled) held open before the first delivery")
                flushOutput()
            }
            let began = ContinuousClock.now
            background.addTask {
                await SoakReport.lines(every: interval, from: began, seconds: duration, tally: tally, lag: lag, columns: columns, terminal: terminal)
            }
            for attacker in 0..<flood {
                background.addTask { await SignInFlood.attack(attacker, of: flood, rate: floodRate, port: port, from: began, tally: tally) }
            }
            await SoakBench.send(planned, rate: rate, concurrency: concurrency, from: began, traffic: traffic, client: client, url: url, tally: tally)
            let held = tally.stalledHeld
            background.cancelAll()
            return (began, held)
        }

        // What arrived since the last line, and where the projector stood as the sending stopped.
        let stopped = ContinuousClock.now
        tally.sampleMemory(at: (stopped - start).milliseconds / 1_000)
        let endLag = await lag()
        let rest = tally.takeInterval()
        if terminal { SoakReport.clearProgress() }
        if rest.sent > 0 || rest.latency.count > 0 || rest.errors > 0 {
            print(SoakReport.line(elapsed: (stopped - start).milliseconds / 1_000, rest, resident: tally.lastResident, lag: endLag,
                                  stalledHeld: heldAtEnd, columns: columns))
        }
        flushOutput()
        var caughtUp: Double? = endLag == 0 ? 0 : nil
        while caughtUp == nil, ContinuousClock.now - stopped < Self.catchUpWatch {
            try? await Task.sleep(for: .milliseconds(250))
            if await lag() == 0 { caughtUp = (ContinuousClock.now - stopped).milliseconds / 1_000 }
        }
        try? await client.shutdown()

        let total = tally.totals
        let memory = tally.memory
        let growth = Self.growthPerMinute(memory)
        let eventsPerDelivery = total.acknowledged > 0 ? max(1, Double(total.events) / Double(total.acknowledged)) : 1
        let lagAllowed = Int(Double(rate * Self.lagAllowedSeconds) * eventsPerDelivery)
        print("")
        print("summary: \(total.sent) of \(planned) sent, \(total.acknowledged) acknowledged, \(total.errors) errors, \(total.behind) behind; "
              + "\(total.events) events stored")
        let kinds = tally.errorKinds
        if !kinds.isEmpty { print("errors: " + kinds.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")) }
        let p50 = SoakReport.ms(total.latency.percentile(0.5)), p99 = SoakReport.ms(total.latency.percentile(0.99))
        let slowest = SoakReport.ms(total.latency.count > 0 ? total.latency.largest : nil)
        print("latency (every answer): p50 \(p50) ms, p99 \(p99) ms, max \(slowest) ms")
        if let first = memory.first, let last = memory.last, let most = memory.map({ $0.kib }).max() {
            let judged = growth.map { String(format: "%.2f MiB/min", $0) } ?? "not judged (the run is shorter than 2 minutes)"
            let bound = String(format: "%.1f", maxGrowth)
            print("memory (VmRSS of the server and the load generator together): first \(SoakReport.mib(first.kib)), "
                  + "last \(SoakReport.mib(last.kib)), max \(SoakReport.mib(most)); growth after the first minute \(judged) (bound \(bound))")
        } else {
            print("memory: not measured (no /proc/self/status on this system)")
        }
        let stoppedLag = endLag.map { String($0) } ?? "unknown"
        let watched = Int(Self.catchUpWatch.milliseconds / 1_000)
        let catchUp = caughtUp.map { String(format: "caught up %.1f s after the last delivery", $0) } ?? "still behind \(watched) s after the last delivery"
        print("projector lag: max \(tally.maxLag) events; \(stoppedLag) as the sending stopped "
              + "(bound \(lagAllowed): \(Self.lagAllowedSeconds) s of deliveries); \(catchUp)")
        if flood > 0 {
            print("sign-in flood: \(total.signIns.values.reduce(0, +)) attempts; answers " + SoakReport.statuses(total.signIns))
        }
        if stalled > 0 {
            let (closed, failed) = tally.stalledCounts
            print("stalled uploads: \(heldAtEnd) of \(stalled) held open when the sending stopped; \(closed) closed by the server's idle timeout "
                  + "and opened again; \(failed) could not be opened")
        }

        var reasons: [String] = []
        if total.sent < planned { reasons.append("\(planned - total.sent) deliveries never sent (the server was too far behind)") }
        if total.errors > 0 { reasons.append("\(total.errors) deliveries not acknowledged") }
        if total.sent > 0, Double(total.behind) > Double(total.sent) * Self.behindAllowed {
            reasons.append("the rate was not held: \(total.behind) of \(total.sent) sends started over \(Int(Self.onTime.milliseconds)) ms late")
        }
        if let growth, growth > maxGrowth {
            reasons.append(String(format: "memory grew %.2f MiB/min after the first minute (bound %.1f)", growth, maxGrowth))
        }
        if let endLag {
            if endLag > lagAllowed { reasons.append("the projector was \(endLag) events behind as the sending stopped (bound \(lagAllowed))") }
        } else {
            reasons.append("the projector's position could not be read")
        }
        if reasons.isEmpty {
            print("soak: PASS")
        } else {
            print("soak: FAIL (\(reasons.joined(separator: "; ")))")
            flushOutput()
            throw ExitCode.failure
        }
    }

    /// Sends `count` deliveries, the i-th at `start + i / rate` whether or not earlier ones were
    /// answered (open loop, so a slow server meets the same arrivals as under real traffic). At
    /// most `concurrency` are in flight; a send that must wait for one, or whose time the sender
    /// itself missed, starts late and counts as behind. Sends not started by `lateCutoff` after the
    /// run's end are not sent at all.
    static func send(_ count: Int, rate: Int, concurrency: Int, from start: ContinuousClock.Instant, traffic: SoakTraffic,
                     client: HTTPClient, url: String, tally: SoakTally) async {
        var traffic = traffic
        let period = Duration.seconds(1) / rate
        let cutoff = start + period * count + lateCutoff
        await withDiscardingTaskGroup { group in
            for i in 0..<count {
                let due = start + period * i
                do {
                    if ContinuousClock.now < due { try await Task.sleep(until: due, clock: .continuous) }
                    while tally.inFlight >= concurrency { try await Task.sleep(for: .milliseconds(1)) }
                } catch {
                    return
                }
                if ContinuousClock.now > cutoff { return }
                // Made when sent, not ahead of time: a run's worth of bodies held in memory would show in the figure being measured.
                guard let delivery = traffic.delivery(i, at: Int64(Date().timeIntervalSince1970 * 1_000)) else { continue }
                tally.started(late: ContinuousClock.now - due > SoakBench.onTime)
                group.addTask { await SoakBench.deliver(delivery, client: client, url: url, tally: tally) }
            }
        }
    }

    static func deliver(_ delivery: Delivery, client: HTTPClient, url: String, tally: SoakTally) async {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Douyin-Signature", value: delivery.signature)
        request.headers.add(name: "Msg-Id", value: delivery.msgId)
        request.body = .bytes(ByteBuffer(bytes: delivery.body))
        let sent = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 16)
            tally.answered(status: Int(response.status.code), milliseconds: (ContinuousClock.now - sent).milliseconds,
                           events: storedEvents(String(buffer: body)))
        } catch {
            tally.failed("transport: " + String(String(describing: error).prefix(100)))
        }
    }

    /// The events a delivery was stored as, from the answer `{"status":"stored","events":N}`.
    static func storedEvents(_ answer: String) -> Int {
        guard let field = answer.range(of: #""events":"#) else { return 0 }
        return Int(answer[field.upperBound...].prefix(while: \.isNumber)) ?? 0
    }

    /// The least-squares slope of resident memory over the samples after the first minute, in
    /// MiB a minute: the first minute fills pools, caches and connections. Nil when those samples
    /// span less than a minute.
    static func growthPerMinute(_ samples: [(seconds: Double, kib: Int)]) -> Double? {
        let points = samples.filter { $0.seconds >= 60 }
        guard let first = points.first, let last = points.last, last.seconds - first.seconds >= 60 else { return nil }
        let n = Double(points.count)
        let xs = points.map { $0.seconds / 60 }
        let ys = points.map { Double($0.kib) / 1_024 }
        let meanX = xs.reduce(0, +) / n
        let meanY = ys.reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0
        for (x, y) in zip(xs, ys) {
            sxx += (x - meanX) * (x - meanX)
            sxy += (x - meanX) * (y - meanY)
        }
        return sxx > 0 ? sxy / sxx : nil
    }
}

/// The pushes of a busy account, shaped and signed by the sandbox exactly as the platform sends
/// them: mostly likes, then follows, comments, direct messages and fan-group activity, each with
/// its own Msg-Id.
struct SoakTraffic: Sendable {
    /// Twenty pushes in the proportions the mix repeats.
    static let mix: [EventKind] = [.like, .follow, .like, .comment, .like, .dmReceived, .like, .follow, .dmEntered, .like,
                                   .like, .comment, .follow, .dmSent, .like, .groupJoin, .like, .dmReceived, .groupMessage, .unfollow]
    let fans: Int
    var sandbox: Sandbox

    init(app: PlatformApp, account: Account, fans: Int) {
        self.fans = fans
        sandbox = Sandbox(clientKey: app.clientKey, clientSecret: app.clientSecret, accountOpenIds: [account.openId],
                          duplicateRate: 0, reorderRate: 0, seed: 1)
    }

    /// The i-th push, happening at `ms`; nil only for a kind the platform does not push (none in the mix).
    mutating func delivery(_ i: Int, at ms: Int64) -> Delivery? {
        let kind = Self.mix[i % Self.mix.count]
        // A third of the pushes come from the most active 1% of fans; the rest go round all of them.
        let fan = i % 3 == 0 ? (i / 3) % max(1, fans / 100) : (i % fans) * 7_919 % fans
        let channel: FlywheelDomain.Channel
        let ref: String?
        switch kind {
        case .dmReceived, .dmSent, .dmEntered:
            channel = .dm
            ref = "conv-\(fan)"
        case .groupJoin, .groupMessage:
            channel = .group
            ref = "group-1"
        case .follow, .unfollow:
            channel = .recommendFeed
            ref = nil
        default:
            channel = .recommendFeed
            ref = "v\(i % 50)"
        }
        let event = FanEvent(id: "soak-\(i)", kind: kind, openId: "soak-fan-\(fan)", occurredAt: ms, channel: channel, ref: ref,
                             attributes: ["nickname": "粉丝\(fan)"])
        for case .delivery(let delivery) in sandbox.outputs([WorldEvent(account: 0, event: event)]) { return delivery }
        return nil
    }
}

/// Latencies in buckets each 1% wider than the one before, from 0.01 ms to about 11 s: memory that
/// does not grow with the run (which is what is measured), percentiles within 1%.
struct LatencyHistogram: Sendable {
    static let smallest = 0.01
    static let growth = 1.01
    static let buckets = 1_400
    private(set) var counts = [Int](repeating: 0, count: LatencyHistogram.buckets)
    private(set) var count = 0
    private(set) var largest = 0.0

    mutating func record(_ ms: Double) {
        let index = ms <= Self.smallest ? 0 : min(Self.buckets - 1, Int((log(ms / Self.smallest) / log(Self.growth)).rounded(.up)))
        counts[index] += 1
        count += 1
        largest = max(largest, ms)
    }

    /// The upper edge of the bucket holding the p-th latency, never above the largest seen.
    func percentile(_ p: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((Double(count) * p).rounded(.up)))
        var seen = 0
        for (index, n) in counts.enumerated() {
            seen += n
            if seen >= rank { return min(Self.smallest * pow(Self.growth, Double(index)), largest) }
        }
        return largest
    }
}

/// What the soak counted, shared by the sender, the answers, the flood, the stalled uploads and
/// the report: per interval and in total.
final class SoakTally: Sendable {
    struct Counts: Sendable {
        var sent = 0
        var acknowledged = 0
        var errors = 0
        var behind = 0
        /// Events the acknowledged deliveries were stored as: the log's length, for the lag.
        var events = 0
        var latency = LatencyHistogram()
        var signIns: [String: Int] = [:]
    }

    enum StallChange { case held, released, closedByServer, failed }

    private struct State {
        var interval = Counts()
        var total = Counts()
        var inFlight = 0
        var errorKinds: [String: Int] = [:]
        var signInAttempts = 0
        var stalledHeld = 0
        var stalledClosed = 0
        var stalledFailed = 0
        var maxLag = 0
        var memory: [(seconds: Double, kib: Int)] = []
    }

    /// Distinct error texts kept; more are counted as "other", so a storm of odd errors cannot grow memory.
    static let errorKindsKept = 20
    private let state: Mutex<State>

    init(seconds: Int) {
        var initial = State()
        // Room for a sample a second, reserved now so that the samples' own growth does not show in them.
        initial.memory.reserveCapacity(seconds + 120)
        state = Mutex(initial)
    }

    private static func both(_ state: inout State, _ change: (inout Counts) -> Void) {
        change(&state.interval)
        change(&state.total)
    }

    var inFlight: Int { state.withLock { $0.inFlight } }
    var stalledHeld: Int { state.withLock { $0.stalledHeld } }
    var sent: Int { state.withLock { $0.total.sent } }
    var totals: Counts { state.withLock { $0.total } }
    var errorKinds: [String: Int] { state.withLock { $0.errorKinds } }
    var maxLag: Int { state.withLock { $0.maxLag } }
    var memory: [(seconds: Double, kib: Int)] { state.withLock { $0.memory } }
    var lastResident: Int? { state.withLock { $0.memory.last?.kib } }
    var stalledCounts: (closed: Int, failed: Int) { state.withLock { (closed: $0.stalledClosed, failed: $0.stalledFailed) } }

    func started(late: Bool) {
        state.withLock { s in
            s.inFlight += 1
            Self.both(&s) { c in
                c.sent += 1
                if late { c.behind += 1 }
            }
        }
    }

    func answered(status: Int, milliseconds: Double, events: Int) {
        let acknowledged = (200..<300).contains(status)
        state.withLock { s in
            s.inFlight -= 1
            if !acknowledged { Self.countError("HTTP \(status)", in: &s) }
            Self.both(&s) { c in
                c.latency.record(milliseconds)
                if acknowledged {
                    c.acknowledged += 1
                    c.events += events
                } else {
                    c.errors += 1
                }
            }
        }
    }

    func failed(_ kind: String) {
        state.withLock { s in
            s.inFlight -= 1
            Self.countError(kind, in: &s)
            Self.both(&s) { $0.errors += 1 }
        }
    }

    private static func countError(_ kind: String, in s: inout State) {
        let key = s.errorKinds[kind] != nil || s.errorKinds.count < errorKindsKept ? kind : "other"
        s.errorKinds[key, default: 0] += 1
    }

    /// The interval's counts, starting the next interval.
    func takeInterval() -> Counts {
        state.withLock { s in
            let taken = s.interval
            s.interval = Counts()
            return taken
        }
    }

    /// Events stored but not yet projected, given the projector's position (the log of the bench's
    /// fresh account is numbered 1, 2, 3... so its length is the events stored).
    func lag(projected: Int64) -> Int {
        state.withLock { s in
            let lag = max(0, s.total.events - Int(projected))
            s.maxLag = max(s.maxLag, lag)
            return lag
        }
    }

    func nextSignInAttempt() -> Int {
        state.withLock { s in
            s.signInAttempts += 1
            return s.signInAttempts
        }
    }

    func signIn(_ answer: String) {
        state.withLock { s in Self.both(&s) { $0.signIns[answer, default: 0] += 1 } }
    }

    func stalled(_ change: StallChange) {
        state.withLock { s in
            switch change {
            case .held: s.stalledHeld += 1
            case .released: s.stalledHeld -= 1
            case .closedByServer: s.stalledClosed += 1
            case .failed: s.stalledFailed += 1
            }
        }
    }

    func sampleMemory(at seconds: Double) {
        guard let kib = residentKiB() else { return }
        state.withLock { $0.memory.append((seconds: seconds, kib: kib)) }
    }
}

/// The soak's report lines, and a one-line progress display on standard error only when it is a terminal.
enum SoakReport {
    struct Columns: Sendable {
        var signIns: Bool
        var stalled: Bool
    }

    /// Samples memory every second and prints a line every `interval` seconds, until cancelled.
    static func lines(every interval: Int, from start: ContinuousClock.Instant, seconds total: Int, tally: SoakTally,
                      lag: @Sendable () async -> Int?, columns: Columns, terminal: Bool) async {
        var second = 1
        var nextLine = interval
        while true {
            do { try await Task.sleep(until: start + .seconds(second), clock: .continuous) } catch { return }
            tally.sampleMemory(at: Double(second))
            if second >= nextLine {
                let counts = tally.takeInterval()
                let lagNow = await lag()
                if terminal { clearProgress() }
                print(line(elapsed: Double(second), counts, resident: tally.lastResident, lag: lagNow, stalledHeld: tally.stalledHeld, columns: columns))
                flushOutput()
                nextLine += interval
            } else if terminal {
                FileHandle.standardError.write(Data("\rsoak: \(second) of \(total) s, \(tally.sent) sent   ".utf8))
            }
            second += 1
        }
    }

    static func clearProgress() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }

    static func line(elapsed: Double, _ c: SoakTally.Counts, resident: Int?, lag: Int?, stalledHeld: Int, columns: Columns) -> String {
        let p50 = ms(c.latency.percentile(0.5)), p99 = ms(c.latency.percentile(0.99))
        let slowest = ms(c.latency.count > 0 ? c.latency.largest : nil)
        let rss = resident.map { mib($0) } ?? "n/a"
        let behindProjector = lag.map { String($0) } ?? "?"
        var parts = [String(format: "%5.0f s", elapsed), "sent \(c.sent)", "acked \(c.acknowledged)", "errors \(c.errors)", "behind \(c.behind)",
                     "p50 \(p50) p99 \(p99) max \(slowest) ms", "rss \(rss)", "lag \(behindProjector)"]
        if columns.signIns { parts.append("sign-in " + statuses(c.signIns)) }
        if columns.stalled { parts.append("stalled \(stalledHeld)") }
        return parts.joined(separator: "  ")
    }

    static func ms(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "-" }
    static func mib(_ kib: Int) -> String { String(format: "%.1f MiB", Double(kib) / 1_024) }
    static func statuses(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
    }
}

/// Console sign-in attempts with wrong passwords from many connections at a fixed total rate. Each
/// attempt comes from an address of its own in 127.1.0.0/16 and names a user that does not exist,
/// so the limiter locks nothing out and every attempt costs a password hash or is refused as busy:
/// the flood at its most expensive for the server.
enum SignInFlood {
    static func attack(_ attacker: Int, of attackers: Int, rate: Double, port: Int, from start: ContinuousClock.Instant, tally: SoakTally) async {
        let period = Duration.seconds(Double(attackers) / rate)
        var due = start + .seconds(Double(attacker) / rate)
        while !Task.isCancelled {
            do { try await Task.sleep(until: due, clock: .continuous) } catch { return }
            let attempt = tally.nextSignInAttempt()
            do {
                let status = try await signIn(attempt, port: port)
                tally.signIn(status.map { String($0) } ?? "no answer")
            } catch {
                if Task.isCancelled { return }
                tally.signIn("transport")
            }
            // Each connection waits for its answer: when answers are slow the flood slows, rather than piling up here.
            due = max(due + period, ContinuousClock.now)
        }
    }

    /// One attempt on a connection of its own; the answer's status code.
    static func signIn(_ attempt: Int, port: Int) async throws -> Int? {
        // The double-submit check wants the cookie and the form to agree; any token does.
        let token = "flood\(attempt)"
        let form = "csrf=\(token)&name=intruder-\(attempt)&password=wrong-\(attempt)"
        let request = "POST /console/login HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Cookie: fw_signin=\(token)\r\nContent-Length: \(form.utf8.count)\r\nConnection: close\r\n\r\n" + form
        let source = "127.1.\(attempt / 250 % 250 + 1).\(attempt % 250 + 1)"
        let connection = try await LoopbackConnection.open(port: port, from: source)
        return try await connection.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var received = ByteBuffer()
            for try await chunk in inbound {
                received.writeImmutableBuffer(chunk)
                if received.readableBytes >= 12 { break }
            }
            // "HTTP/1.1 401": the status line's first twelve bytes end with the code.
            guard let head = received.getString(at: received.readerIndex, length: min(12, received.readableBytes)), head.hasPrefix("HTTP/1.") else {
                return nil
            }
            return Int(head.suffix(3))
        }
    }
}

/// A client that announces a large webhook body, sends its first kilobyte and then nothing. It is
/// held until the server's idle timeout closes it, then opened again, so that as many are held
/// for the whole run.
enum StalledUpload {
    /// Just under the webhook's 1 MiB limit, so the server waits for the rest rather than refusing at once.
    static let announced = 1_048_575

    static func hold(port: Int, clientKey: String, tally: SoakTally) async {
        let opening = #"{"event":"new_follow_action","client_key":"\#(clientKey)","from_user_id":"stalled","to_user_id":"soak-account","content":""#
        let head = "POST /webhooks/douyin HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
            + "X-Douyin-Signature: 0\r\nMsg-Id: stalled\r\nContent-Length: \(announced)\r\n\r\n" + opening + String(repeating: "x", count: 1_024)
        while !Task.isCancelled {
            do {
                let connection = try await LoopbackConnection.open(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: head))
                    tally.stalled(.held)
                    defer { tally.stalled(.released) }
                    // Whatever the server answers, the connection stays until it closes it or the run ends.
                    do { for try await _ in inbound {} } catch {}
                }
                if !Task.isCancelled { tally.stalled(.closedByServer) }
            } catch {
                if Task.isCancelled { return }
                tally.stalled(.failed)
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// A raw TCP connection to the bench's server, from a loopback address of the caller's choice:
/// what the flood and the stalled uploads need and an HTTP client does not offer (its own source
/// address, a body never finished).
enum LoopbackConnection {
    static func open(port: Int, from source: String? = nil) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let server = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let local = try source.map { try SocketAddress(ipAddress: $0, port: 0) }
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(5))
        if let local { bootstrap = bootstrap.bind(to: local) }
        return try await bootstrap.connect(to: server) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    }
}

/// Resident memory now, in KiB: VmRSS from /proc/self/status (Linux); nil elsewhere.
func residentKiB() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
    return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
}
