import FlywheelDomain

/// An enterprise, or a service provider that manages enterprises.
public struct Tenant: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case enterprise, provider }
    public var id: String
    public var name: String
    public var kind: Kind
    /// The service provider that manages this enterprise, if any.
    public var providerId: String?
    public var createdAt: Int64
    /// The quadrant whose playbook its accounts follow, once chosen.
    public var industry: Industry?

    public init(id: String, name: String, kind: Kind, providerId: String?, createdAt: Int64, industry: Industry? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.providerId = providerId
        self.createdAt = createdAt
        self.industry = industry
    }
}

/// What a user (and each of its API keys) may do in its tenant.
public enum Role: String, Sendable, Codable, CaseIterable {
    case owner, admin, `operator`, agent, analyst
}

public struct User: Sendable, Equatable, Codable {
    public var tenantId: String
    public var id: String
    public var name: String
    public var role: Role
    public var createdAt: Int64
    /// When the user was disabled (ms); nil while active. A disabled user's keys and sessions are
    /// refused until the user is enabled again.
    public var disabledAt: Int64?

    public init(tenantId: String, id: String, name: String, role: Role, createdAt: Int64, disabledAt: Int64? = nil) {
        self.tenantId = tenantId
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }

    public var isDisabled: Bool { disabledAt != nil }
}

/// A signed-in console session as stored: only the SHA-256 of its token is kept.
public struct SessionRecord: Sendable, Equatable {
    public var tokenHash: String
    public var tenantId: String
    public var userId: String
    /// Sent back with every form; a request without it is refused (CSRF).
    public var csrf: String
    public var createdAt: Int64
    public var expiresAt: Int64

    public init(tokenHash: String, tenantId: String, userId: String, csrf: String, createdAt: Int64, expiresAt: Int64) {
        self.tokenHash = tokenHash
        self.tenantId = tenantId
        self.userId = userId
        self.csrf = csrf
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// An API key as stored: only the SHA-256 of its secret part is kept.
public struct APIKeyRecord: Sendable, Equatable {
    public var tenantId: String
    public var id: String
    public var userId: String
    public var secretHash: String
    public var createdAt: Int64
    /// When the key stops working (ms); nil for a key that does not expire.
    public var expiresAt: Int64?
    /// When the key was revoked (ms); nil while it was not.
    public var revokedAt: Int64?

    public init(tenantId: String, id: String, userId: String, secretHash: String, createdAt: Int64,
                expiresAt: Int64? = nil, revokedAt: Int64? = nil) {
        self.tenantId = tenantId
        self.id = id
        self.userId = userId
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the key may act at `now`: not revoked and not expired.
    public func isUsable(at now: Int64) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }

    public enum State: String, Sendable, CaseIterable {
        case active, expired, revoked
    }

    /// What the key is at `now`, as the API and the console name it.
    public func state(at now: Int64) -> State {
        if revokedAt != nil { return .revoked }
        if let expiresAt, now >= expiresAt { return .expired }
        return .active
    }
}

/// Who is calling: resolved from an API key.
public struct Principal: Sendable, Equatable {
    public var tenantId: String
    public var userId: String
    public var keyId: String
    public var role: Role

    public init(tenantId: String, userId: String, keyId: String, role: Role) {
        self.tenantId = tenantId
        self.userId = userId
        self.keyId = keyId
        self.role = role
    }
}

/// A platform app (client_key + client_secret); one webhook callback per app.
public struct PlatformApp: Sendable, Equatable {
    public var tenantId: String
    public var id: String
    public var name: String
    public var clientKey: String
    public var clientSecret: String
    public var createdAt: Int64

    public init(tenantId: String, id: String, name: String, clientKey: String, clientSecret: String, createdAt: Int64) {
        self.tenantId = tenantId
        self.id = id
        self.name = name
        self.clientKey = clientKey
        self.clientSecret = clientSecret
        self.createdAt = createdAt
    }
}

/// One enterprise account of a matrix, known on the platform by its open_id under an app.
public struct Account: Sendable, Equatable {
    public var tenantId: String
    public var id: String
    public var name: String
    public var appId: String
    public var openId: String
    /// IANA identifier; days (caps, rollups) are counted in it.
    public var timeZone: String
    public var createdAt: Int64

    public init(tenantId: String, id: String, name: String, appId: String, openId: String, timeZone: String, createdAt: Int64) {
        self.tenantId = tenantId
        self.id = id
        self.name = name
        self.appId = appId
        self.openId = openId
        self.timeZone = timeZone
        self.createdAt = createdAt
    }
}

/// An account's identity as a key in memory (caches, held batches, back-off): tenant and id.
public struct AccountKey: Hashable, Sendable {
    public var tenantId: String
    public var accountId: String

    public init(tenantId: String, accountId: String) {
        self.tenantId = tenantId
        self.accountId = accountId
    }

    public init(_ account: Account) { self.init(tenantId: account.tenantId, accountId: account.id) }
}

/// One line of the audit log: who changed what, recorded in the same transaction as the change.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var id: String
    public var tenantId: String
    public var at: Int64
    /// `user:<id>` or `cli`.
    public var actor: String
    public var action: String
    public var target: String
    public var detail: String

    public init(id: String, tenantId: String, at: Int64, actor: String, action: String, target: String, detail: String = "") {
        self.id = id
        self.tenantId = tenantId
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
    }
}

/// A platform push as received, kept whole whether or not it becomes fan events.
public struct WebhookDelivery: Sendable, Equatable {
    public var tenantId: String
    public var appId: String
    public var msgId: String
    public var event: String
    /// The account it was routed to, if one matched `to_user_id`.
    public var accountId: String?
    public var receivedAt: Int64
    public var body: String

    public init(tenantId: String, appId: String, msgId: String, event: String, accountId: String?, receivedAt: Int64, body: String) {
        self.tenantId = tenantId
        self.appId = appId
        self.msgId = msgId
        self.event = event
        self.accountId = accountId
        self.receivedAt = receivedAt
        self.body = body
    }
}

/// A delivery with the fan events it means, as ingest hands it to the store.
public struct IncomingDelivery: Sendable, Equatable {
    public var delivery: WebhookDelivery
    public var events: [FanEvent]

    public init(_ delivery: WebhookDelivery, events: [FanEvent]) {
        self.delivery = delivery
        self.events = events
    }
}

public enum DeliveryOutcome: Sendable, Equatable {
    /// Newly stored, with this many fan events appended.
    case stored(events: Int)
    /// Seen before under the same `Msg-Id`: nothing changed.
    case duplicate
}

/// An event bound for one account's log.
public struct AccountEvent: Sendable, Equatable {
    public var tenantId: String
    public var accountId: String
    public var event: FanEvent

    public init(tenantId: String, accountId: String, event: FanEvent) {
        self.tenantId = tenantId
        self.accountId = accountId
        self.event = event
    }
}

public struct AppendOutcome: Sendable, Equatable {
    public var inserted: Int
    public var duplicates: Int

    public init(inserted: Int, duplicates: Int) {
        self.inserted = inserted
        self.duplicates = duplicates
    }
}

/// An event with its position in its account's log.
public struct StoredEvent: Sendable, Equatable {
    public var seq: Int64
    public var event: FanEvent

    public init(seq: Int64, event: FanEvent) {
        self.seq = seq
        self.event = event
    }
}

/// An account's rules with their version, and the version the projector has applied.
public struct VersionedRules: Sendable, Equatable {
    public var rules: AccountRules
    public var version: Int
    public var appliedVersion: Int

    public init(rules: AccountRules, version: Int, appliedVersion: Int) {
        self.rules = rules
        self.version = version
        self.appliedVersion = appliedVersion
    }
}

/// One page of a cursor-paginated list.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Pass back as `cursor` for the next page; nil on the last page.
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Fans moving between tiers on one day; `from` nil counts fans first seen.
public struct TierFlow: Sendable, Hashable {
    public var day: Int
    public var from: Tier?
    public var to: Tier

    public init(day: Int, from: Tier?, to: Tier) {
        self.day = day
        self.from = from
        self.to = to
    }
}

/// Events and newly seen fans per day, domain and channel.
public struct ActivityCell: Sendable, Hashable {
    public var day: Int
    public var domain: SourceDomain
    public var channel: Channel

    public init(day: Int, domain: SourceDomain, channel: Channel) {
        self.day = day
        self.domain = domain
        self.channel = channel
    }
}

public struct ActivityCount: Sendable, Equatable {
    public var events: Int
    public var newFans: Int

    public init(events: Int = 0, newFans: Int = 0) {
        self.events = events
        self.newFans = newFans
    }
}

/// A named group of an account's fans: defined by a predicate and kept current as fans change, or
/// static (a list imported from CSV or chosen by a lookalike), whose members change only by hand.
public struct Segment: Sendable, Equatable {
    public enum State: String, Sendable, Codable, CaseIterable {
        /// Created; its first full scan has not finished.
        case building
        /// Members are current and kept current by the projector.
        case ready
        /// The full scan failed; `failure` says why.
        case failed
    }

    public var tenantId: String
    public var accountId: String
    public var id: String
    public var name: String
    /// nil for a static segment.
    public var predicate: FanPredicate?
    public var state: State
    public var failure: String?
    public var size: Int
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(tenantId: String, accountId: String, id: String, name: String, predicate: FanPredicate?, state: State,
                failure: String? = nil, size: Int = 0, createdAt: Int64, updatedAt: Int64) {
        self.tenantId = tenantId
        self.accountId = accountId
        self.id = id
        self.name = name
        self.predicate = predicate
        self.state = state
        self.failure = failure
        self.size = size
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension Segment {
    /// The `predicate` column: the text form, or "" for a static segment.
    public var storedPredicate: String { predicate?.description ?? "" }

    /// Predicates as parsed from their stored text: the projector reads the segments at every batch
    /// (a few an account, so room for thousands).
    private static let parsedPredicates = TextMemo<FanPredicate>(limit: 4096)

    /// Reads the `predicate` column back.
    public static func predicate(stored text: String, id: String) throws -> FanPredicate? {
        guard !text.isEmpty else { return nil }
        do { return try parsedPredicates.value(for: text, FanPredicate.parse) } catch { throw StoreError.corrupt("segments row \(id) has an unreadable predicate: \(error)") }
    }
}

/// How a group of fans is distributed over its attributes (a crowd package's portrait): for each
/// dimension, the count of fans per value.
public struct Portrait: Sendable, Equatable {
    /// Columns of `fans`, counted by value.
    public static let dimensions = ["tier", "level", "first_domain", "first_channel", "latest_domain", "following",
                                    "gender", "age_band", "region", "device", "interests"]
    /// Dimensions holding a set (`SetColumn`): a fan counts once under each name it holds.
    static let setDimensions: Set<String> = ["interests"]
    public var size: Int
    /// dimension → value → fans; "" for fans without a value.
    public var distributions: [String: [String: Int]]

    public init(size: Int, distributions: [String: [String: Int]]) {
        self.size = size
        self.distributions = distributions
    }

    /// From fan counts grouped by each dimension's stored value, as the stores' SQL gives them.
    public init(size: Int, grouped: [String: [String: Int]]) {
        var distributions = grouped
        for dimension in Self.setDimensions {
            var split: [String: Int] = [:]
            for (stored, n) in grouped[dimension] ?? [:] {
                let names = SetColumn.names(in: stored)
                if names.isEmpty { split["", default: 0] += n }
                for name in names { split[name, default: 0] += n }
            }
            distributions[dimension] = split
        }
        self.init(size: size, distributions: distributions)
    }
}

/// Something the system did to a fan, for the fan's timeline: today an auto-tag rule putting on a
/// tag (`action` "tag_added", `detail` the tag).
public struct FanAction: Sendable, Equatable {
    public var openId: String
    public var at: Int64
    public var action: String
    public var detail: String
    /// The log position of the cause, as for tier transitions.
    public var causeSeq: Int64

    public init(openId: String, at: Int64, action: String, detail: String, causeSeq: Int64) {
        self.openId = openId
        self.at = at
        self.action = action
        self.detail = detail
        self.causeSeq = causeSeq
    }
}

/// A tag operators may put on fans, in its group ("interest", "stage"); defined once per tenant.
public struct TagDefinition: Sendable, Equatable, Codable {
    public var name: String
    public var group: String
    public var createdAt: Int64

    public init(name: String, group: String, createdAt: Int64) {
        self.name = name
        self.group = group
        self.createdAt = createdAt
    }
}

/// A fan entered or left a segment, when and why (the event kind, or `rules_changed`).
public struct SegmentChange: Sendable, Equatable {
    public var segmentId: String
    public var openId: String
    public var entered: Bool
    public var at: Int64
    public var cause: String
    /// The log position of the cause, as for tier transitions.
    public var causeSeq: Int64

    public init(segmentId: String, openId: String, entered: Bool, at: Int64, cause: String, causeSeq: Int64) {
        self.segmentId = segmentId
        self.openId = openId
        self.entered = entered
        self.at = at
        self.cause = cause
        self.causeSeq = causeSeq
    }
}
