import FlywheelDomain
import Foundation

/// A run due for its next step, with the account it belongs to.
public struct DueJourneyRun: Sendable, Equatable {
    public var tenantId: String
    public var accountId: String
    public var run: JourneyRun

    public init(tenantId: String, accountId: String, run: JourneyRun) {
        self.tenantId = tenantId
        self.accountId = accountId
        self.run = run
    }
}

/// What a step did to a fan, once the run left it: the fan's timeline and the change feed show it.
public struct JourneyStepRecord: Sendable, Equatable {
    public var journeyId: String
    public var openId: String
    public var enteredSeq: Int64
    /// 0 for the entry itself.
    public var step: Int
    /// The step's kind, or `entered`.
    public var kind: String
    /// What came of it: `sent`, `skipped: …`, `yes`/`no` for a branch, the arm on entry.
    public var outcome: String
    public var at: Int64

    public init(journeyId: String, openId: String, enteredSeq: Int64, step: Int, kind: String, outcome: String, at: Int64) {
        self.journeyId = journeyId
        self.openId = openId
        self.enteredSeq = enteredSeq
        self.step = step
        self.kind = kind
        self.outcome = outcome
        self.at = at
    }
}

/// One advance of a run: the run as it now stands (written only if nobody moved it since it was
/// read), the steps it left, the DM it queued and the static segments the fan joined, all in one
/// transaction.
public struct JourneyAdvance: Sendable {
    public var tenantId: String
    public var accountId: String
    /// The run's new position; its `revision` is the one read.
    public var run: JourneyRun
    public var steps: [JourneyStepRecord]
    public var desk: DeskChange?
    /// Static segments (posts' audiences) the fan joins, and when.
    public var joins: [(segmentId: String, at: Int64)]

    public init(tenantId: String, accountId: String, run: JourneyRun, steps: [JourneyStepRecord], desk: DeskChange? = nil,
                joins: [(segmentId: String, at: Int64)] = []) {
        self.tenantId = tenantId
        self.accountId = accountId
        self.run = run
        self.steps = steps
        self.desk = desk
        self.joins = joins
    }
}

/// How many fans a journey holds, per arm and state, and what each step did.
public struct JourneyProgress: Sendable, Equatable {
    public var runs: [ExperimentArm: [JourneyRun.State: Int]] = [:]
    public var steps: [(step: Int, kind: String, outcome: String, fans: Int)] = []

    public init() {}

    public static func == (a: JourneyProgress, b: JourneyProgress) -> Bool {
        a.runs == b.runs && a.steps.elementsEqual(b.steps) { $0 == $1 }
    }

    public func entered(_ arm: ExperimentArm) -> Int { runs[arm]?.values.reduce(0, +) ?? 0 }
}

/// One fan's outcome after entering an experiment, for its report.
public struct ExperimentFan: Sendable, Equatable {
    public var arm: ExperimentArm
    public var orders: Int
    public var gmv: Int64
    public var unfollowed: Bool

    public init(arm: ExperimentArm, orders: Int, gmv: Int64, unfollowed: Bool) {
        self.arm = arm
        self.orders = orders
        self.gmv = gmv
        self.unfollowed = unfollowed
    }
}

extension ExperimentFan {
    /// What each fan of `entries` (rows of `open_id`, `arm`, `t` the time it entered) bought and
    /// whether it unfollowed in `window` (ms) after `t`: the one reading of every experiment.
    static func query(entries: String, _ binds: [Cell], tenantId: String, accountId: String, window: Int64) -> SQLStatement {
        let account: [Cell] = [.text(tenantId), .text(accountId)]
        return SQLStatement("""
            SELECT f.arm AS arm, COUNT(o.order_id) AS orders, CAST(COALESCE(SUM(o.amount_fen), 0) AS BIGINT) AS gmv,
              MAX(CASE WHEN fa.following = 0 AND fa.follow_changed_at >= f.t AND fa.follow_changed_at < f.t + ? THEN 1 ELSE 0 END) AS unfollowed
            FROM (\(entries)) f
            LEFT JOIN fans fa ON fa.tenant_id = ? AND fa.account_id = ? AND fa.open_id = f.open_id
            LEFT JOIN orders o ON o.tenant_id = ? AND o.account_id = ? AND o.open_id = f.open_id AND o.paid_at >= f.t AND o.paid_at < f.t + ?
            GROUP BY f.arm, f.open_id
            """, [.int(window)] + binds + account + account + [.int(window)])
    }

    /// A row of `query`; nil for an arm this version does not know.
    init?(_ row: SQLRow) throws {
        guard let arm = ExperimentArm(rawValue: try row.text("arm")) else { return nil }
        self.init(arm: arm, orders: Int(try row.int("orders")), gmv: try row.int("gmv"), unfollowed: try row.int("unfollowed") == 1)
    }
}

/// Each arm's outcomes summed from its fans': what a report is made of.
extension Sequence<ExperimentFan> {
    public var arms: [ExperimentArm: ArmOutcome] {
        reduce(into: [:]) { $0[$1.arm, default: ArmOutcome()].add(converted: $1.orders > 0, gmv: $1.gmv, unfollowed: $1.unfollowed) }
    }
}

/// Journeys: their versions, the fans on them and the experiments they carry.
public protocol JourneyStore: Sendable {
    /// The tenant's journeys at their current version, of the accounts given (every account when nil).
    func journeys(tenantId: String, accountIds: [String]?) async throws -> [Journey]
    /// The journey at `version` (its current one when nil).
    func journey(_ id: String, tenantId: String, version: Int?) async throws -> Journey?
    /// A new journey: its head and version 1; refused (`conflict` on `journeys`) when the account has
    /// `Journey.maxPerAccount` already.
    func createJourney(_ journey: Journey, audit: AuditEntry) async throws
    /// Saves an edit made on version `from`: a draft's definition in place, a launched journey's as
    /// a new version; refused (`changedMeanwhile`) when the journey is no longer at `from`.
    func reviseJourney(_ journey: Journey, from: Int, audit: AuditEntry) async throws
    /// `firesAt`: a date journey's moment, kept from its first launch until it fires.
    func setJourneyState(_ id: String, tenantId: String, state: JourneyState, launchedAt: Int64?, firesAt: Int64?, audit: AuditEntry) async throws
    /// Active date journeys of every tenant whose moment has come and that have not fired yet.
    func journeysToFire(now: Int64, limit: Int) async throws -> [Journey]
    /// Puts fans on a journey outside the projector (a date, a lead's move), as the projector does:
    /// once unless re-entry is allowed, never twice at once; `fired` marks a date journey done.
    func enterJourney(_ journey: Journey, runs: [JourneyRun], fired: Bool) async throws
    /// Runs of active journeys of every tenant that are due at `now`, the longest due first.
    func dueJourneyRuns(now: Int64, limit: Int) async throws -> [DueJourneyRun]
    /// Records an advance; false when the run had moved meanwhile (nothing written).
    func advanceJourneyRun(_ advance: JourneyAdvance) async throws -> Bool
    /// The fan's journey steps, newest first.
    func journeySteps(of account: Account, openId: String, limit: Int) async throws -> [JourneyStepRecord]
    func journeyProgress(_ id: String, tenantId: String) async throws -> JourneyProgress
    /// Each fan's first entry into the journey and what it did in `window` (ms) after it: orders
    /// paid, GMV, and whether it unfollowed.
    func experimentFans(_ id: String, tenantId: String, accountId: String, window: Int64) async throws -> [ExperimentFan]
    /// Records a fan a campaign held out (once).
    func holdOut(campaignId: String, openId: String, at: Int64, of account: Account) async throws
    /// Who is in a post's or a campaign's experiment, on which arm, from when: the fans it reached
    /// (claimed, entered, took a code) from the first time, and those it held out.
    func holdoutEntries(_ kind: CampaignKind, id: String, of account: Account) async throws -> [(openId: String, arm: ExperimentArm, at: Int64)]
    /// A post's or a campaign's experiment: each of its entries with what the fan did in `window`
    /// (ms) after.
    func campaignExperimentFans(_ kind: CampaignKind, id: String, of account: Account, window: Int64) async throws -> [ExperimentFan]
    /// The enterprise's global control group in percent (`Journey.defaultControl` until set).
    func controlPercent(tenantId: String) async throws -> Int
    func setControlPercent(_ percent: Int, tenantId: String, audit: AuditEntry) async throws
}

/// A journey's definition as stored with each version.
struct JourneyDefinition: Codable {
    var trigger: JourneyTrigger
    var steps: [JourneyStep]
    var reentry: Bool
    var quietHours: QuietHours?

    init(_ j: Journey) {
        trigger = j.trigger
        steps = j.steps
        reentry = j.reentry
        quietHours = j.quietHours
    }

    var json: String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self) }
}

/// The journeys' rows, for the store and for the projection batch's reading of active journeys.
public enum JourneyRows {
    static let columns = """
        j.tenant_id, j.journey_id, j.account_id, j.name, j.version, j.state, j.holdout_percent, j.control_percent, j.created_at, j.launched_at, v.definition
        """

    /// Every version of the account's launched journeys: what the projector reads for each batch.
    public static func launched(_ account: Account) -> SQLStatement {
        SQLStatement("""
            SELECT \(columns), v.version AS row_version FROM journeys j JOIN journey_versions v ON v.tenant_id = j.tenant_id AND v.journey_id = j.journey_id
            WHERE j.tenant_id = ? AND j.account_id = ? AND j.state <> 'draft' ORDER BY j.journey_id, v.version
            """, [.text(account.tenantId), .text(account.id)])
    }

    /// From `launched`'s rows: the active journeys at their current version, which fans enter, and
    /// the event kinds any version waits for (fans on an older version still wait for theirs).
    public static func projection(_ rows: [SQLRow]) throws -> (journeys: [Journey], waited: Set<String>) {
        var journeys: [Journey] = [], waited: Set<String> = []
        for row in rows {
            let journey = try Self.journey(row)
            for step in journey.steps where step.kind == .waitForEvent { if let e = step.event { waited.insert(e) } }
            if journey.state == .active, try row.int("row_version") == row.int("version") { journeys.append(journey) }
        }
        return (journeys, waited)
    }

    public static func journey(_ row: SQLRow) throws -> Journey {
        guard let definition = try? JSONDecoder().decode(JourneyDefinition.self, from: Data(try row.text("definition").utf8)) else {
            throw StoreError.corrupt("journey \(try row.text("journey_id")) has an unreadable definition")
        }
        let version = try row.optionalInt("row_version") ?? row.int("version")
        return Journey(tenantId: try row.text("tenant_id"), accountId: try row.text("account_id"), id: try row.text("journey_id"), name: try row.text("name"),
                       version: Int(version), trigger: definition.trigger, steps: definition.steps, reentry: definition.reentry,
                       holdoutPercent: Int(try row.int("holdout_percent")), controlPercent: Int(try row.int("control_percent")),
                       quietHours: definition.quietHours, state: JourneyState(rawValue: try row.text("state")) ?? .paused,
                       createdAt: try row.int("created_at"), launchedAt: row.optionalInt("launched_at"))
    }

    /// Rows of `open_id`, `arm` and `t` (from when): a post's reached and held-out fans, a
    /// campaign's fans who got it and those it held out.
    static func holdoutEntries(_ kind: CampaignKind, id: String, of account: Account) -> (String, [Cell]) {
        let got = switch kind {
        case .post: "SELECT open_id, MIN(at) AS t FROM touches WHERE tenant_id = ? AND account_id = ? AND touchpoint = 'post' AND ref = ? AND held = 0 GROUP BY open_id"
        // A coupon given as a fission reward was not asked for: not in the coupon's experiment.
        case .coupon: """
            SELECT open_id, MIN(claimed_at) AS t FROM coupon_claims c WHERE tenant_id = ? AND account_id = ? AND coupon_id = ?
              AND NOT EXISTS (SELECT 1 FROM fission_rewards r WHERE r.tenant_id = c.tenant_id AND r.claim_id = c.claim_id) GROUP BY open_id
            """
        case .redEnvelope: """
            SELECT s.open_id, MIN(s.claimed_at) AS t FROM envelope_shares s JOIN red_envelopes e ON e.tenant_id = s.tenant_id AND e.envelope_id = s.envelope_id
            WHERE s.tenant_id = ? AND e.account_id = ? AND s.envelope_id = ? AND s.open_id IS NOT NULL GROUP BY s.open_id
            """
        case .lottery: """
            SELECT n.open_id, MIN(n.entered_at) AS t FROM lottery_entries n JOIN lotteries l ON l.tenant_id = n.tenant_id AND l.lottery_id = n.lottery_id
            WHERE n.tenant_id = ? AND l.account_id = ? AND n.lottery_id = ? GROUP BY n.open_id
            """
        case .fission: """
            SELECT c.open_id, MIN(c.created_at) AS t FROM fission_codes c JOIN fission_campaigns f ON f.tenant_id = c.tenant_id AND f.campaign_id = c.campaign_id
            WHERE c.tenant_id = ? AND f.account_id = ? AND c.campaign_id = ? GROUP BY c.open_id
            """
        }
        let held = kind == .post
            ? "SELECT open_id, at AS t FROM post_holdouts WHERE tenant_id = ? AND account_id = ? AND post_id = ?"
            : "SELECT open_id, at AS t FROM campaign_holdouts WHERE tenant_id = ? AND account_id = ? AND campaign_id = ?"
        let key: [Cell] = [.text(account.tenantId), .text(account.id), .text(id)]
        return ("SELECT open_id, 'treated' AS arm, t FROM (\(got)) got UNION ALL SELECT open_id, 'holdout' AS arm, t FROM (\(held)) held", key + key)
    }

    static let runColumns = "tenant_id, account_id, journey_id, open_id, entered_seq, version, arm, step, state, due_at, waiting_for, entered_at, revision"

    static func run(_ row: SQLRow) throws -> JourneyRun {
        JourneyRun(journeyId: try row.text("journey_id"), openId: try row.text("open_id"), enteredSeq: try row.int("entered_seq"), version: Int(try row.int("version")),
                   arm: ExperimentArm(rawValue: try row.text("arm")) ?? .holdout, step: Int(try row.int("step")),
                   state: JourneyRun.State(rawValue: try row.text("state")) ?? .done, dueAt: try row.int("due_at"), waitingFor: row.optionalText("waiting_for"),
                   enteredAt: try row.int("entered_at"), revision: Int(try row.int("revision")))
    }

    /// The fan joining a static segment, as a segment entry caused by the journey (its history, its
    /// size and the change feed see it); nothing when it is a member already or the segment is gone
    /// or no longer static. On PostgreSQL the segment's row is locked first, so two runs adding the
    /// same fan at once count it once.
    static func join(_ segmentId: String, openId: String, journeyId: String, seq: Int64, at: Int64, tenantId: String, accountId: String) -> [SQLStep] {
        let segment: [Cell] = [.text(tenantId), .text(accountId), .text(segmentId)]
        let member = segment + [.text(openId)]
        let joins = """
            EXISTS (SELECT 1 FROM segments WHERE tenant_id = ? AND account_id = ? AND segment_id = ? AND predicate = '')
            AND NOT EXISTS (SELECT 1 FROM segment_members WHERE tenant_id = ? AND account_id = ? AND segment_id = ? AND open_id = ?)
            """
        return [
            .postgresOnly(SQLStatement("SELECT 1 FROM segments WHERE tenant_id = ? AND account_id = ? AND segment_id = ? FOR UPDATE", segment)),
            .execute(SQLStatement("""
                INSERT INTO segment_changes (tenant_id, account_id, segment_id, open_id, cause_seq, at, entered, cause) SELECT ?, ?, ?, ?, ?, ?, 1, ?
                WHERE \(joins) ON CONFLICT DO NOTHING
                """, member + [.int(seq), .int(at), .text("journey:\(journeyId)")] + segment + member)),
            .execute(SQLStatement("UPDATE segments SET size = size + 1, updated_at = ? WHERE tenant_id = ? AND account_id = ? AND segment_id = ? AND \(joins)",
                                  [.int(at)] + segment + segment + member)),
            .execute(SQLStatement("""
                INSERT INTO segment_members (tenant_id, account_id, segment_id, open_id, since) SELECT ?, ?, ?, ?, ?
                WHERE EXISTS (SELECT 1 FROM segments WHERE tenant_id = ? AND account_id = ? AND segment_id = ? AND predicate = '') ON CONFLICT DO NOTHING
                """, member + [.int(at)] + segment)),
        ]
    }

    static func record(_ r: JourneyStepRecord, tenantId: String, accountId: String) -> SQLStatement {
        SQLStatement("""
            INSERT INTO journey_steps (tenant_id, account_id, journey_id, open_id, entered_seq, step, kind, outcome, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant_id, account_id, journey_id, open_id, entered_seq, step) DO NOTHING
            """, [.text(tenantId), .text(accountId), .text(r.journeyId), .text(r.openId), .int(r.enteredSeq), .int(Int64(r.step)), .text(r.kind),
                  .text(r.outcome), .int(r.at)])
    }
}

/// Fans the batch put on journeys: each enters unless it is on the journey already (or ever was,
/// when the journey allows no re-entry); its entry is the first step recorded.
public struct JourneyEntriesWrite: StatementWrite {
    public var entries: [(reentry: Bool, run: JourneyRun)]
    public init(entries: [(reentry: Bool, run: JourneyRun)]) { self.entries = entries }

    public func statements(of account: Account) -> [SQLStatement] {
        Self.statements(entries, tenantId: account.tenantId, accountId: account.id)
    }

    static func statements(_ entries: [(reentry: Bool, run: JourneyRun)], tenantId: String, accountId: String) -> [SQLStatement] {
        let key: [Cell] = [.text(tenantId), .text(accountId)]
        return entries.flatMap { reentry, r -> [SQLStatement] in
            let fan: [Cell] = key + [.text(r.journeyId), .text(r.openId)]
            return [
                SQLStatement("""
                    INSERT INTO journey_runs (\(JourneyRows.runColumns)) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 0
                    WHERE NOT EXISTS (SELECT 1 FROM journey_runs WHERE tenant_id = ? AND account_id = ? AND journey_id = ? AND open_id = ? AND (? = 0 OR state = 'waiting'))
                    ON CONFLICT DO NOTHING
                    """, fan + [.int(r.enteredSeq), .int(Int64(r.version)), .text(r.arm.rawValue), .int(Int64(r.step)), .text(r.state.rawValue), .int(r.dueAt),
                                .int(r.enteredAt)] + fan + [.int(reentry ? 1 : 0)]),
                SQLStatement("""
                    INSERT INTO journey_steps (tenant_id, account_id, journey_id, open_id, entered_seq, step, kind, outcome, at)
                    SELECT tenant_id, account_id, journey_id, open_id, entered_seq, 0, 'entered', arm, entered_at FROM journey_runs
                    WHERE tenant_id = ? AND account_id = ? AND journey_id = ? AND open_id = ? AND entered_seq = ?
                    ON CONFLICT DO NOTHING
                    """, fan + [.int(r.enteredSeq)]),
            ]
        }
    }
}

/// Events a journey waits for, done: each wakes the fan's runs waiting for that kind.
public struct JourneyWakeWrite: StatementWrite {
    public var events: [(openId: String, kind: String, at: Int64)]
    public init(events: [(openId: String, kind: String, at: Int64)]) { self.events = events }

    public func statements(of account: Account) -> [SQLStatement] {
        events.map { e in
            SQLStatement("""
                UPDATE journey_runs SET waiting_for = NULL, due_at = CASE WHEN due_at > ? THEN ? ELSE due_at END, revision = revision + 1
                WHERE tenant_id = ? AND account_id = ? AND open_id = ? AND waiting_for = ? AND state = 'waiting'
                """, [.int(e.at), .int(e.at), .text(account.tenantId), .text(account.id), .text(e.openId), .text(e.kind)])
        }
    }
}

/// The journeys context, written once for both databases.
extension JourneyStore where Self: SQLStore {
    public func journeys(tenantId: String, accountIds: [String]?) async throws -> [Journey] {
        var sql = """
            SELECT \(JourneyRows.columns) FROM journeys j JOIN journey_versions v ON v.tenant_id = j.tenant_id AND v.journey_id = j.journey_id AND v.version = j.version
            WHERE j.tenant_id = ?
            """
        var binds: [Cell] = [.text(tenantId)]
        if let accountIds {
            guard !accountIds.isEmpty else { return [] }
            sql += " AND j.account_id IN (\(SQLStatement.placeholders(accountIds.count)))"
            binds += accountIds.map(Cell.text)
        }
        return try await runner.query(SQLStatement(sql + " ORDER BY j.created_at DESC, j.journey_id", binds)).map(JourneyRows.journey)
    }

    public func journey(_ id: String, tenantId: String, version: Int?) async throws -> Journey? {
        try await runner.query(SQLStatement("""
            SELECT \(JourneyRows.columns) FROM journeys j JOIN journey_versions v ON v.tenant_id = j.tenant_id AND v.journey_id = j.journey_id
              AND v.version = \(version == nil ? "j.version" : "?")
            WHERE j.tenant_id = ? AND j.journey_id = ?
            """, (version.map { [Cell.int(Int64($0))] } ?? []) + [.text(tenantId), .text(id)])).first.map(JourneyRows.journey)
    }

    public func createJourney(_ journey: Journey, audit: AuditEntry) async throws {
        try await runner.transaction([
            .forbid(SQLStatement("SELECT 1 WHERE (SELECT COUNT(*) FROM journeys WHERE tenant_id = ? AND account_id = ?) >= ?",
                                 [.text(journey.tenantId), .text(journey.accountId), .int(Int64(Journey.maxPerAccount))]),
                    orElse: .conflict(field: "journeys", "an account has \(Journey.maxPerAccount) journeys at most; delete or reuse one")),
            .execute(SQLStatement("""
                INSERT INTO journeys (tenant_id, journey_id, account_id, name, version, state, holdout_percent, control_percent, created_at, launched_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(journey.tenantId), .text(journey.id), .text(journey.accountId), .text(journey.name), .int(Int64(journey.version)),
                      .text(journey.state.rawValue), .int(Int64(journey.holdoutPercent)), .int(Int64(journey.controlPercent)), .int(journey.createdAt),
                      .nullable(journey.launchedAt)])),
            .execute(Self.version(journey, at: journey.createdAt)),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func reviseJourney(_ journey: Journey, from: Int, audit: AuditEntry) async throws {
        let key: [Cell] = [.text(journey.tenantId), .text(journey.id)]
        var steps: [SQLStep] = [
            .require(SQLStatement("""
                UPDATE journeys SET name = ?, version = ?, holdout_percent = ?, control_percent = ? WHERE tenant_id = ? AND journey_id = ? AND version = ?
                RETURNING version
                """, [.text(journey.name), .int(Int64(journey.version)), .int(Int64(journey.holdoutPercent)), .int(Int64(journey.controlPercent))] + key
                     + [.int(Int64(from))]), orElse: .refused(.changedMeanwhile)),
        ]
        if journey.version == from {
            steps.append(.execute(SQLStatement("UPDATE journey_versions SET definition = ? WHERE tenant_id = ? AND journey_id = ? AND version = ?",
                                               [.text(JourneyDefinition(journey).json)] + key + [.int(Int64(from))])))
        } else {
            steps.append(.execute(Self.version(journey, at: audit.at)))
        }
        steps.append(.execute(TenancyRows.record(audit)))
        try await runner.transaction(steps)
    }

    static func version(_ journey: Journey, at: Int64) -> SQLStatement {
        SQLStatement("INSERT INTO journey_versions (tenant_id, journey_id, version, definition, created_at) VALUES (?, ?, ?, ?, ?)",
                     [.text(journey.tenantId), .text(journey.id), .int(Int64(journey.version)), .text(JourneyDefinition(journey).json), .int(at)])
    }

    public func setJourneyState(_ id: String, tenantId: String, state: JourneyState, launchedAt: Int64?, firesAt: Int64?, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("""
                UPDATE journeys SET state = ?, fires_at = CASE WHEN launched_at IS NULL THEN ? ELSE fires_at END, launched_at = COALESCE(launched_at, ?)
                WHERE tenant_id = ? AND journey_id = ? RETURNING version
                """, [.text(state.rawValue), .nullable(firesAt), .nullable(launchedAt), .text(tenantId), .text(id)]), orElse: .notFound("journey \(id)")),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func journeysToFire(now: Int64, limit: Int) async throws -> [Journey] {
        try await runner.query(SQLStatement("""
            SELECT \(JourneyRows.columns) FROM journeys j JOIN journey_versions v ON v.tenant_id = j.tenant_id AND v.journey_id = j.journey_id AND v.version = j.version
            WHERE j.fires_at <= ? AND j.state = 'active' ORDER BY j.fires_at LIMIT ?
            """, [.int(now), .int(Int64(limit))])).map(JourneyRows.journey)
    }

    public func enterJourney(_ journey: Journey, runs: [JourneyRun], fired: Bool) async throws {
        var steps = JourneyEntriesWrite.statements(runs.map { (journey.reentry, $0) }, tenantId: journey.tenantId, accountId: journey.accountId).map(SQLStep.execute)
        if fired {
            steps.append(.execute(SQLStatement("UPDATE journeys SET fires_at = NULL WHERE tenant_id = ? AND journey_id = ?",
                                               [.text(journey.tenantId), .text(journey.id)])))
        }
        guard !steps.isEmpty else { return }
        try await runner.transaction(steps)
    }

    public func dueJourneyRuns(now: Int64, limit: Int) async throws -> [DueJourneyRun] {
        try await runner.query(SQLStatement("""
            SELECT \(JourneyRows.runColumns.split(separator: ",").map { "r." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
            FROM journey_runs r JOIN journeys j ON j.tenant_id = r.tenant_id AND j.journey_id = r.journey_id
            WHERE r.state = 'waiting' AND r.due_at <= ? AND j.state = 'active' ORDER BY r.due_at LIMIT ?
            """, [.int(now), .int(Int64(limit))])).map {
            DueJourneyRun(tenantId: try $0.text("tenant_id"), accountId: try $0.text("account_id"), run: try JourneyRows.run($0))
        }
    }

    public func advanceJourneyRun(_ advance: JourneyAdvance) async throws -> Bool {
        let r = advance.run
        var steps: [SQLStep] = [
            .require(SQLStatement("""
                UPDATE journey_runs SET step = ?, state = ?, due_at = ?, waiting_for = ?, revision = revision + 1
                WHERE tenant_id = ? AND account_id = ? AND journey_id = ? AND open_id = ? AND entered_seq = ? AND revision = ? RETURNING revision
                """, [.int(Int64(r.step)), .text(r.state.rawValue), .int(r.dueAt), .nullable(r.waitingFor), .text(advance.tenantId), .text(advance.accountId),
                      .text(r.journeyId), .text(r.openId), .int(r.enteredSeq), .int(Int64(r.revision))]), orElse: .refused(.changedMeanwhile)),
        ]
        steps += advance.steps.map { .execute(JourneyRows.record($0, tenantId: advance.tenantId, accountId: advance.accountId)) }
        if let desk = advance.desk, !desk.isEmpty { steps += DeskRows.steps(desk, tenantId: advance.tenantId) }
        steps += advance.joins.flatMap { JourneyRows.join($0.segmentId, openId: r.openId, journeyId: r.journeyId, seq: r.enteredSeq, at: $0.at,
                                                          tenantId: advance.tenantId, accountId: advance.accountId) }
        do {
            try await runner.transaction(steps)
            return true
        } catch StoreError.refused(.changedMeanwhile) {
            return false
        }
    }

    public func journeySteps(of account: Account, openId: String, limit: Int) async throws -> [JourneyStepRecord] {
        try await runner.query(SQLStatement("""
            SELECT journey_id, entered_seq, step, kind, outcome, at FROM journey_steps WHERE tenant_id = ? AND account_id = ? AND open_id = ?
            ORDER BY at DESC, step DESC LIMIT ?
            """, [.text(account.tenantId), .text(account.id), .text(openId), .int(Int64(limit))])).map {
            JourneyStepRecord(journeyId: try $0.text("journey_id"), openId: openId, enteredSeq: try $0.int("entered_seq"), step: Int(try $0.int("step")),
                              kind: try $0.text("kind"), outcome: try $0.text("outcome"), at: try $0.int("at"))
        }
    }

    public func journeyProgress(_ id: String, tenantId: String) async throws -> JourneyProgress {
        let key: [Cell] = [.text(tenantId), .text(id)]
        var progress = JourneyProgress()
        for row in try await runner.query(SQLStatement("""
            SELECT arm, state, COUNT(*) AS n FROM journey_runs WHERE tenant_id = ? AND journey_id = ? GROUP BY arm, state
            """, key)) {
            guard let arm = ExperimentArm(rawValue: try row.text("arm")), let state = JourneyRun.State(rawValue: try row.text("state")) else { continue }
            progress.runs[arm, default: [:]][state] = Int(try row.int("n"))
        }
        progress.steps = try await runner.query(SQLStatement("""
            SELECT step, kind, outcome, COUNT(*) AS n FROM journey_steps WHERE tenant_id = ? AND journey_id = ? AND step > 0
            GROUP BY step, kind, outcome ORDER BY step, n DESC
            """, key)).map { (Int(try $0.int("step")), try $0.text("kind"), try $0.text("outcome"), Int(try $0.int("n"))) }
        return progress
    }

    public func experimentFans(_ id: String, tenantId: String, accountId: String, window: Int64) async throws -> [ExperimentFan] {
        try await runner.query(ExperimentFan.query(entries: """
            SELECT open_id, arm, MIN(entered_at) AS t FROM journey_runs WHERE tenant_id = ? AND journey_id = ? GROUP BY open_id, arm
            """, [.text(tenantId), .text(id)], tenantId: tenantId, accountId: accountId, window: window)).compactMap(ExperimentFan.init)
    }

    public func holdOut(campaignId: String, openId: String, at: Int64, of account: Account) async throws {
        try await runner.transaction([.execute(SQLStatement("""
            INSERT INTO campaign_holdouts (tenant_id, account_id, campaign_id, open_id, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """, [.text(account.tenantId), .text(account.id), .text(campaignId), .text(openId), .int(at)]))])
    }

    public func holdoutEntries(_ kind: CampaignKind, id: String, of account: Account) async throws -> [(openId: String, arm: ExperimentArm, at: Int64)] {
        let (sql, binds) = JourneyRows.holdoutEntries(kind, id: id, of: account)
        return try await runner.query(SQLStatement(sql + " ORDER BY arm, open_id", binds)).compactMap { row in
            try ExperimentArm(rawValue: row.text("arm")).map { (try row.text("open_id"), $0, try row.int("t")) }
        }
    }

    public func campaignExperimentFans(_ kind: CampaignKind, id: String, of account: Account, window: Int64) async throws -> [ExperimentFan] {
        let (sql, binds) = JourneyRows.holdoutEntries(kind, id: id, of: account)
        return try await runner.query(ExperimentFan.query(entries: sql, binds, tenantId: account.tenantId, accountId: account.id, window: window))
            .compactMap(ExperimentFan.init)
    }

    public func controlPercent(tenantId: String) async throws -> Int {
        Int(try await runner.query(SQLStatement("SELECT control_percent FROM experiment_settings WHERE tenant_id = ?", [.text(tenantId)]))
            .first?.int("control_percent") ?? Int64(Journey.defaultControl))
    }

    public func setControlPercent(_ percent: Int, tenantId: String, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("""
                INSERT INTO experiment_settings (tenant_id, control_percent) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET control_percent = excluded.control_percent
                """, [.text(tenantId), .int(Int64(percent))])),
            .execute(TenancyRows.record(audit)),
        ])
    }
}
