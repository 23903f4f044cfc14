import FlywheelDomain

/// Errors a store reports for the caller to turn into answers.
public enum StoreError: Error, Equatable, Sendable {
    /// A unique value is taken: `field` names it as the API does, and the message is Flywheel's
    /// own words, never the database's (`uniqueValueTaken`).
    case conflict(field: String, String)
    /// Something the operation depends on does not exist.
    case notFound(String)
    /// Stored data could not be read back; names the table and column.
    case corrupt(String)
    /// A projection made a kind of write this store has no writer for.
    case noWriter(String)
    /// The change would break a rule the store keeps; nothing was written.
    case refused(Refusal)

    public enum Refusal: Sendable, Equatable {
        /// It would leave the tenant without an active owner.
        case lastOwner
        /// The user's role or state changed since the caller read it (another change came first).
        case changedMeanwhile
    }

    /// Unique values callers choose, by the table and column the database names in its message
    /// (SQLite) or constraint and detail (PostgreSQL), with the API's name for each.
    static let takenFields: [(table: String, column: String, field: String)] = [
        ("users", "name", "name"), ("accounts", "open_id", "openId"), ("platform_apps", "client_key", "clientKey"),
        ("tags", "name", "name"),
    ]

    /// A unique value taken, from what the database said: the field by the API's name and a
    /// message of Flywheel's own, so no answer ever carries the database's text.
    public static func uniqueValueTaken(_ databaseText: String) -> StoreError {
        let field = takenFields.first { databaseText.contains($0.table) && databaseText.contains($0.column) }?.field ?? "value"
        return .conflict(field: field, "\(field) is already taken")
    }
}

/// What the projector reads for one batch of one account.
public struct ProjectionBatch: Sendable {
    public var account: Account
    public var rules: AccountRules
    public var rulesVersion: Int
    /// True when the rules changed since the last batch: `fans` then holds every fan of the account.
    public var rulesChanged: Bool
    public var events: [StoredEvent]
    /// Current state of every fan the batch touches (and of all fans when `rulesChanged`).
    public var fans: [String: FanState]
    /// The account's ready dynamic segments, which the batch keeps current.
    public var segments: [Segment] = []
    /// The ready segments each fan in `fans` belongs to.
    public var memberships: [String: Set<String>] = [:]
    /// The account's active journeys at their current version, which the batch enters fans into.
    public var journeys: [Journey] = []
    /// The event kinds a run of the account's journeys may be waiting for.
    public var journeyWaits: Set<String> = []
    /// Rows of the batch's range that could not be read back as events (`at` unset): the projector
    /// sets them aside.
    public var unreadable: [QuarantinedEvent] = []

    public init(account: Account, rules: AccountRules, rulesVersion: Int, rulesChanged: Bool, events: [StoredEvent], fans: [String: FanState]) {
        self.account = account
        self.rules = rules
        self.rulesVersion = rulesVersion
        self.rulesChanged = rulesChanged
        self.events = events
        self.fans = fans
    }
}

public struct ProjectionPosition: Sendable, Equatable {
    public var lastSeq: Int64
    public var rulesVersion: Int

    public init(lastSeq: Int64, rulesVersion: Int) {
        self.lastSeq = lastSeq
        self.rulesVersion = rulesVersion
    }
}

/// What the projections made of one batch, committed with the checkpoint in one transaction: a
/// list of typed writes. A new consequence of events is a new projection with a new kind of write
/// (and that write's one writer in each backend), not a new field here.
public struct ProjectionResult: Sendable {
    public var writes: [any ProjectionWrite]

    public init(writes: [any ProjectionWrite]) { self.writes = writes }

    /// The write of one kind, when the projections made one.
    public func write<W: ProjectionWrite>(_ kind: W.Type) -> W? { writes.lazy.compactMap { $0 as? W }.first }
}

/// One kind of write a projection makes; each store backend has one writer for it.
public protocol ProjectionWrite: Sendable {}

/// A write made of ordinary statements, the same on both databases: one writer serves them all.
public protocol StatementWrite: ProjectionWrite {
    func statements(of account: Account) -> [SQLStatement]
}

/// The new state of the fans the batch changed.
public struct FanStatesWrite: ProjectionWrite {
    public var fans: [FanState]
    public init(fans: [FanState]) { self.fans = fans }
}

/// Tier transitions, each with the log position of its cause (the event's seq, or minus the rules
/// version) and its day, and their daily sums.
public struct TierTransitionsWrite: ProjectionWrite {
    public var transitions: [(transition: TierTransition, causeSeq: Int64, day: Int)]
    public var flows: [TierFlow: Int]
    public init(transitions: [(transition: TierTransition, causeSeq: Int64, day: Int)], flows: [TierFlow: Int]) {
        self.transitions = transitions
        self.flows = flows
    }
}

/// What the system did to fans (auto-tags).
public struct FanActionsWrite: ProjectionWrite {
    public var actions: [FanAction]
    public init(actions: [FanAction]) { self.actions = actions }
}

/// Events and new fans per day, domain and channel, added to the rollup.
public struct ActivityWrite: ProjectionWrite {
    public var cells: [ActivityCell: ActivityCount]
    public init(cells: [ActivityCell: ActivityCount]) { self.cells = cells }
}

/// Segment entries and exits.
public struct SegmentChangesWrite: ProjectionWrite {
    public var changes: [SegmentChange]
    public init(changes: [SegmentChange]) { self.changes = changes }
}

/// Events set aside because they could not be read or applied.
public struct QuarantineWrite: ProjectionWrite {
    public var events: [QuarantinedEvent]
    public init(events: [QuarantinedEvent]) { self.events = events }
}

/// An event the projector set aside because it could not be read or applied: the account's other
/// events went on without it, and the operator retries or drops it.
public struct QuarantinedEvent: Sendable, Equatable {
    public var seq: Int64
    public var eventId: String
    public var reason: String
    /// When it was set aside (ms).
    public var at: Int64

    public init(seq: Int64, eventId: String, reason: String, at: Int64) {
        self.seq = seq
        self.eventId = eventId
        self.reason = reason
        self.at = at
    }
}

/// Flywheel's storage, one protocol per bounded context and `Store` their composition. One method
/// per use case, each one transaction; implemented on SQLite (embedded, default) and on PostgreSQL
/// (scale-out); `tenantId` scopes every query. Ordinary SQL is written once (`SQLScript`,
/// `TenancySQL`); the hot paths are written per backend.
public protocol Store: TenancyStore, EventLogStore, ProjectionStore, TagStore, SegmentStore, FanStore, PlatformTokenStore, DeskStore, LeadStore, ReachStore, CouponStore,
    RedEnvelopeStore, LotteryStore, OrderStore, FissionStore, ShopStore, OperateStore, PeopleStore, BulkJobStore, StreamStore, JourneyStore {
    /// Creates or upgrades the schema.
    func migrate() async throws
}

/// Tenants, users, keys, sessions, platform apps, accounts, their rules, and the audit log.
public protocol TenancyStore: Sendable {
    /// A tenant with its first user (an owner) and that user's first API key.
    func createTenant(_ tenant: Tenant, owner: User, key: APIKeyRecord, audit: AuditEntry) async throws
    func tenant(id: String) async throws -> Tenant?
    /// Every tenant, for the operator at the command line (never reachable from the API).
    func allTenants() async throws -> [Tenant]
    /// Enterprises a service provider manages.
    func enterprises(managedBy providerId: String) async throws -> [Tenant]
    func createUser(_ user: User, audit: AuditEntry) async throws
    func users(tenantId: String) async throws -> [User]
    /// A user of one of `tenantIds`, disabled or not.
    func user(id: String, tenantIds: [String]) async throws -> User?
    /// Gives `user` a new role. Refused (`StoreError.refused`) when `user` no longer has the role
    /// it was read with, or when it would demote the tenant's last active owner.
    func setRole(_ role: Role, of user: User, audit: AuditEntry) async throws
    /// Disables `user` at `at` and ends its sessions; with `at` nil, enables it again. Disabling is
    /// refused for the tenant's last active owner, and for a user changed since it was read.
    func setDisabled(at: Int64?, of user: User, audit: AuditEntry) async throws
    /// Removes `user` with its keys and sessions (the audit log keeps what it did). Refused for the
    /// tenant's last active owner, and for a user changed since it was read.
    func removeUser(_ user: User, audit: AuditEntry) async throws
    func createAPIKey(_ key: APIKeyRecord, audit: AuditEntry) async throws
    /// The tenant's keys, or one user's, oldest first: revoked and expired ones too.
    func apiKeys(tenantId: String, userId: String?) async throws -> [APIKeyRecord]
    /// A key of one of `tenantIds`, whatever its state, for managing it.
    func apiKey(id: String, tenantIds: [String]) async throws -> APIKeyRecord?
    /// Marks the key revoked at `at`; a key revoked already keeps its first revocation.
    func revokeAPIKey(id: String, tenantId: String, at: Int64, audit: AuditEntry) async throws
    /// Sets a user's console password (its slow hash).
    func setPassword(hash: String, of user: User, audit: AuditEntry) async throws
    /// Who may be signing in as `name`, with their password hashes: the active users of that name
    /// in the tenant `tenant` names (its id or its exact name), or in any tenant when it is nil. At
    /// most two, in tenant order: enough to tell one user from several.
    func signInCandidates(name: String, tenant: String?) async throws -> [(user: User, passwordHash: String?)]
    func createSession(_ session: SessionRecord, audit: AuditEntry) async throws
    /// The session and its user's role, unless it expired by `now` or its user is disabled.
    func session(tokenHash: String, now: Int64) async throws -> (session: SessionRecord, role: Role)?
    func deleteSession(tokenHash: String) async throws
    /// The key and the role of its user, unless that user is disabled; keys are looked up by id
    /// across tenants to authenticate. Read on every request, never cached, so a revocation or a
    /// disabled user is refused at once by every server process.
    func apiKey(id: String) async throws -> (key: APIKeyRecord, role: Role)?
    func createApp(_ app: PlatformApp, audit: AuditEntry) async throws
    func apps(tenantId: String) async throws -> [PlatformApp]
    /// The app a webhook names by `client_key` (unique across tenants).
    func app(clientKey: String) async throws -> PlatformApp?
    func createAccount(_ account: Account, audit: AuditEntry) async throws
    func accounts(tenantIds: [String]) async throws -> [Account]
    func account(id: String, tenantIds: [String]) async throws -> Account?
    /// The account an app's webhook addresses by the account's open_id.
    func account(tenantId: String, appId: String, openId: String) async throws -> Account?
    func rules(of account: Account) async throws -> VersionedRules
    /// Saves new rules and returns their version; the projector re-evaluates the fans.
    func setRules(_ rules: AccountRules, of account: Account, audit: AuditEntry) async throws -> Int
    func auditLog(tenantId: String, cursor: String?, limit: Int) async throws -> Page<AuditEntry>
}

/// The event log: webhook deliveries and imports, deduplicated, appended in arrival order.
public protocol EventLogStore: Sendable {
    /// Stores deliveries and their events in one transaction, each unless its `Msg-Id` was seen
    /// before; one outcome per delivery, in order.
    func ingest(_ deliveries: [IncomingDelivery]) async throws -> [DeliveryOutcome]
    /// Appends events in one transaction, skipping ids already in the log; `progress` gets the
    /// count done so far.
    func append(_ events: [AccountEvent], progress: @Sendable (Int) -> Void) async throws -> AppendOutcome
    /// The account's log after `seq`, in order, as stored (`flywheel verify` reads it; rows that
    /// cannot be read back as events are left out).
    func loggedEvents(of account: Account, after seq: Int64, limit: Int) async throws -> [StoredEvent]
}

/// The projector's reads and writes: batches, checkpoints and quarantined events.
public protocol ProjectionStore: Sendable {
    /// Accounts whose log has events the projector has not applied, or whose rules changed.
    func accountsNeedingProjection() async throws -> [Account]
    /// Reads the next batch of up to `limit` events of `account`, lets `step` turn it into new state,
    /// and commits that state with the checkpoint in one transaction; then the next, up to `batches`
    /// batches while events remain (a store may read and step a batch while the one before commits).
    /// With `whole`, only batches of `limit` events are taken: a bulk append is still arriving, and
    /// each batch rewrites the fans it touches. Each commits only once the next is whole too, and
    /// the last whole one with the rest by the call without `whole`: a store that reads a batch
    /// while the one before commits (SQLite) then reads the last while the one before commits,
    /// instead of after the appends. Returns the events applied.
    func project(_ account: Account, limit: Int, batches: Int, whole: Bool, _ step: @Sendable (ProjectionBatch) throws -> ProjectionResult) async throws -> Int

    /// Sets aside the first event after `lastSeq` when a batch of it alone keeps failing, so the
    /// account goes on; does nothing (false) when the checkpoint moved or the rules changed since.
    func quarantine(_ account: Account, after lastSeq: Int64, reason: String, at: Int64) async throws -> Bool
    /// The account's quarantined events, newest first.
    func quarantinedEvents(of account: Account, limit: Int) async throws -> [QuarantinedEvent]
    /// How many events are set aside in every tenant: for `/health` and `/metrics`.
    func quarantinedCount() async throws -> Int
    /// Appends the quarantined event again, as a new event `retry:<seq>` that the projector applies
    /// late, once `check` accepts it; the set-aside entry goes. Returns the new event's seq.
    func retryQuarantined(seq: Int64, of account: Account, check: @Sendable (FanEvent) throws -> Void, audit: AuditEntry) async throws -> Int64
    /// Forgets a quarantined event for good: it stays in the log, never applied.
    func dropQuarantined(seq: Int64, of account: Account, audit: AuditEntry) async throws
}

/// The tenant's tag definitions.
public protocol TagStore: Sendable {
    func createTag(_ tag: TagDefinition, tenantId: String, audit: AuditEntry) async throws
    /// The tenant's tags by group, then name.
    func tags(tenantId: String) async throws -> [TagDefinition]
    /// Removes the definition (taking the tag off fans is the caller's: events in the log).
    func deleteTag(name: String, tenantId: String, audit: AuditEntry) async throws
}

/// Segments: definitions, full scans, memberships kept current, their history and portraits.
public protocol SegmentStore: Sendable {
    func createSegment(_ segment: Segment, audit: AuditEntry) async throws
    /// A ready static segment holding those of `members` that are fans of the account, each
    /// entered at `segment.createdAt` for `cause`. Returns it with its size.
    func createStaticSegment(_ segment: Segment, of account: Account, members: [String], cause: String, audit: AuditEntry) async throws -> Segment
    func segments(of account: Account) async throws -> [Segment]
    func segment(id: String, of account: Account) async throws -> Segment?
    /// Saves a segment's name, predicate, state and failure (a change of predicate is followed by
    /// `buildSegment`; a failed build records why).
    func updateSegment(_ segment: Segment, audit: AuditEntry?) async throws
    /// Removes the segment with its members and history.
    func deleteSegment(id: String, of account: Account, audit: AuditEntry) async throws
    /// The full scan of a new segment, at `now`, holding the account's projection so no batch
    /// slips between the scan and the segment becoming ready. Returns the segment as it ends up.
    func buildSegment(id: String, of account: Account, now: Int64) async throws -> Segment
    /// Re-evaluates, at `now`, the fans of the account's ready segments whose `within` conditions
    /// may have flipped since each segment was last checked (their time field crossed the window's
    /// edge), holding the account's projection; `evaluate` decides the changes. Returns how many.
    func recheckSegments(of account: Account, now: Int64,
                         evaluate: @Sendable (_ segments: [Segment], _ fans: [FanState], _ memberships: [String: Set<String>]) -> [SegmentChange]) async throws -> Int
    /// Members in open_id order.
    func segmentMembers(id: String, of account: Account, cursor: String?, limit: Int) async throws -> Page<String>
    /// The distribution of the segment's members over `Portrait.dimensions`.
    func portrait(ofSegment id: String, of account: Account) async throws -> Portrait
    /// Entries and exits, newest first.
    func segmentChanges(id: String, of account: Account, limit: Int) async throws -> [SegmentChange]
    /// Entries (+1) and exits (−1) at or after `since` (ms), oldest first, for size over time.
    func segmentMovements(id: String, of account: Account, since: Int64) async throws -> [(at: Int64, delta: Int)]
}

/// Fans as the projector keeps them, and the rollups read for statistics.
public protocol FanStore: Sendable {
    /// How far the account's fans reflect its log: every event up to `lastSeq`, under `rulesVersion`.
    func projectionPosition(of account: Account) async throws -> ProjectionPosition
    /// The current state of the fans with events after `seq` in the log (those that may have
    /// changed since a reader's position), or nil when more than `limit` of them did.
    func fansChanged(of account: Account, after seq: Int64, limit: Int) async throws -> [FanState]?
    /// How many fans of the account match `predicate` at `now`: one full scan, compiled to SQL (`PredicateSQL`).
    func countFans(of account: Account, matching predicate: FanPredicate, now: Int64) async throws -> Int
    /// Fans in open_id order, all of them or those matching `predicate` at `now` (compiled to SQL).
    func fans(of account: Account, matching predicate: FanPredicate?, now: Int64, cursor: String?, limit: Int) async throws -> Page<FanState>
    func fan(of account: Account, openId: String) async throws -> FanState?
    /// The fans of these open_ids that the account has, by open_id.
    func fans(of account: Account, openIds: [String]) async throws -> [String: FanState]
    /// The fan's most recent events, newest first (those not yet projected included).
    func timeline(of account: Account, openId: String, limit: Int) async throws -> [StoredEvent]
    /// The fan's segment entries and exits, newest first.
    func segmentChanges(of account: Account, openId: String, limit: Int) async throws -> [SegmentChange]
    /// What the system did to the fan, newest first.
    func actions(of account: Account, openId: String, limit: Int) async throws -> [FanAction]
    /// The fan's tier transitions, newest first.
    func transitions(of account: Account, openId: String, limit: Int) async throws -> [TierTransition]
    /// Fans per tier right now.
    func tierCounts(of account: Account) async throws -> [Tier: Int]
    func tierFlows(of account: Account, days: ClosedRange<Int>) async throws -> [TierFlow: Int]
    /// Net tier changes before `day`: the distribution at the start of that day.
    func tierCounts(of account: Account, before day: Int) async throws -> [Tier: Int]
    func activity(of account: Account, days: ClosedRange<Int>) async throws -> [ActivityCell: ActivityCount]
}
