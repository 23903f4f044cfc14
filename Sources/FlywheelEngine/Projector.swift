import FlywheelDomain
import FlywheelStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Turns each account's event log into fan state, in log order, a batch at a time; each batch's
/// state and checkpoint commit together, so a restart resumes exactly where it stopped.
public final class Projector: Service, Sendable {
    let env: FlywheelEnvironment
    let batchSize: Int
    let status: ProjectorStatus
    /// The pure rule applied to each batch: `Projector.step`, unless a test puts a faulty one in.
    let rule: @Sendable (ProjectionBatch, Int64) throws -> ProjectionResult
    private let projected: Counter
    private let failureCount: Counter

    public init(_ env: FlywheelEnvironment, batchSize: Int,
                rule: @escaping @Sendable (ProjectionBatch, Int64) throws -> ProjectionResult = { Projector.step($0, now: $1) }) {
        self.env = env
        self.batchSize = batchSize
        self.rule = rule
        status = ProjectorStatus()
        projected = Counter(label: "flywheel_projected_events_total", factory: env.metrics)
        failureCount = Counter(label: "flywheel_projection_failures_total", factory: env.metrics)
    }

    /// Projects every account with pending work, up to `batches` batches each (with `whole`, only
    /// batches of `batchSize` events); returns the events applied.
    @discardableResult
    public func runOnce(batches: Int = Projector.chainedBatches, whole: Bool = false) async -> Int {
        let accounts: [Account]
        do {
            accounts = try await env.store.accountsNeedingProjection()
        } catch {
            await status.failed(account: "*", error: error, at: env.now())
            env.logger.error("projector could not list accounts", metadata: ["error": "\(error)"])
            return 0
        }
        var total = 0
        for account in accounts {
            let now = env.now()
            do {
                let n = try await env.store.project(account, limit: batchSize, batches: batches, whole: whole) { batch in try self.rule(batch, self.env.now()) }
                total += n
                projected.increment(by: n)
                await status.succeeded(account: account.id)
            } catch {
                failureCount.increment()
                await status.failed(account: account.id, error: error, at: now)
                env.logger.error("projection failed; will retry", metadata: ["account": "\(account.id)", "error": "\(error)"])
                total += await isolate(account, now: now)
            }
        }
        return total
    }

    /// After a failed batch: the account's next event alone. When that fails `Self.strikes` times
    /// running, the event is set aside so one poison event cannot hold the account back for good;
    /// a store that is down fails the setting aside too, so nothing is set aside for that.
    private func isolate(_ account: Account, now: Int64) async -> Int {
        do {
            // Changed rules first, with no event: a rule change must not ride along with the event on trial.
            _ = try await env.store.project(account, limit: 0, batches: 1, whole: false) { batch in try self.rule(batch, now) }
            let n = try await env.store.project(account, limit: 1, batches: 1, whole: false) { batch in try self.rule(batch, now) }
            await status.succeeded(account: account.id)
            return n
        } catch {
            guard await status.strike(account: account.id) >= Self.strikes else { return 0 }
            do {
                // When the account's own rules or segments cannot be read, no event is to blame.
                _ = try await env.store.rules(of: account)
                _ = try await env.store.segments(of: account)
                let position = try await env.store.projectionPosition(of: account)
                // The reason is shown to operators: the database's words stay in the log.
                if try await env.store.quarantine(account, after: position.lastSeq, reason: ErrorText.forAnswer(error), at: now) {
                    await status.succeeded(account: account.id)
                    env.logger.warning("event set aside", metadata: ["account": "\(account.id)", "after": "\(position.lastSeq)", "error": "\(error)"])
                    return 1
                }
            } catch {
                env.logger.error("could not set the event aside", metadata: ["account": "\(account.id)", "error": "\(error)"])
            }
            return 0
        }
    }

    /// Batches of one account the server's projector projects in a row (on SQLite each read and
    /// stepped while the one before commits); other accounts wait at most this many.
    public static let chainedBatches = 4

    /// How many times running an event alone must fail before it is set aside.
    static let strikes = 3

    /// Projects until no account has pending events (or only events that fail and cannot be set aside).
    public func drain() async {
        while true {
            if await runOnce() > 0 { continue }
            if await status.isolating(below: Self.strikes) { continue }
            return
        }
    }

    /// Accounts whose last batch failed, with the error: shown by `/health`, never silent.
    public func failures() async -> [String: String] { await status.errors }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if await runOnce() == 0 {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// The projections that follow fan state, in order; a new consequence of events joins this list.
    public static let projections: [any Projection] = [ActivityProjection(), SegmentProjection(), DeskProjection(), LeadProjection(), ReachProjection(), CouponProjection(), OrderProjection(), PopularityProjection(), JourneyProjection()]

    /// The pure rule: one batch in, typed writes out. Fan state first (it decides who changed and
    /// why), then each projection over what it decided.
    public static func step(_ batch: ProjectionBatch, now: Int64) -> ProjectionResult {
        let applied = FanStateProjection.apply(batch, now: now)
        return ProjectionResult(writes: applied.writes + projections.flatMap { $0.writes(for: batch, applied: applied, now: now) })
    }

    /// Every changed fan against every ready segment: who entered, who left, put down to the fan's
    /// cause (and dated by it, or by the segment's creation if that came later), or to `otherwise`
    /// for fans without one. A fan's moves in a batch are dated by its last event in the batch.
    /// `causes` holds each fan's cause in the order of `fans`, or is empty when none has one.
    public static func segmentChanges(_ segments: [Segment], memberships: [String: Set<String>], fans: [FanState],
                                      causes: [AppliedBatch.Cause], otherwise: AppliedBatch.Cause,
                                      calendar: AccountCalendar, now: Int64) -> [SegmentChange] {
        guard !segments.isEmpty else { return [] }
        let compiled = segments.compactMap { segment in segment.predicate.map { (segment.id, segment.createdAt, $0.compile(calendar: calendar)) } }
        var changes: [SegmentChange] = []
        for (i, fan) in fans.enumerated() {
            let before = memberships[fan.openId] ?? []
            let cause = causes.indices.contains(i) ? causes[i] : otherwise
            for (id, created, predicate) in compiled {
                let member = predicate.matches(fan, now: now)
                guard member != before.contains(id) else { continue }
                // Nobody moves in or out of a segment before it existed.
                changes.append(SegmentChange(segmentId: id, openId: fan.openId, entered: member, at: max(cause.at, created), cause: cause.cause, causeSeq: cause.seq))
            }
        }
        return changes
    }
}

/// The projector's health, per account.
actor ProjectorStatus {
    private(set) var errors: [String: String] = [:]

    private var strikes: [String: Int] = [:]

    /// What `/health` says, which anyone may read: the detail is in the log.
    func failed(account: String, error: any Error, at: Int64) { errors[account] = ErrorText.forAnswer(error) }

    func succeeded(account: String) {
        errors[account] = nil
        strikes[account] = nil
    }

    /// Whether some account's next event has failed alone, but fewer than `strikes` times.
    func isolating(below strikes: Int) -> Bool { self.strikes.values.contains { $0 < strikes } }

    /// Counts one more failure of the account's next event alone; returns how many in a row.
    func strike(account: String) -> Int {
        strikes[account, default: 0] += 1
        return strikes[account] ?? 0
    }
}
