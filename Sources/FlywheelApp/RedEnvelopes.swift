import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// Fan red envelopes: a total split into shares (equal, or at random within bounds) that sum to
/// it exactly; each fan who may claim takes one share at most; at expiry the rest goes back.
public struct RedEnvelopes: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public struct Draft: Sendable {
        public var name: String
        public var totalFen: Int64
        public var shares: Int
        public var split: String?
        public var minFen: Int64?
        public var maxFen: Int64?
        public var audience: String?
        public var requiresFollow: Bool?
        public var opensAt: Int64?
        public var expiresAt: Int64
        public var holdoutPercent: Int?

        public init(name: String, totalFen: Int64, shares: Int, split: String?, minFen: Int64?, maxFen: Int64?, audience: String?, requiresFollow: Bool?,
                    opensAt: Int64?, expiresAt: Int64) {
            self.name = name
            self.totalFen = totalFen
            self.shares = shares
            self.split = split
            self.minFen = minFen
            self.maxFen = maxFen
            self.audience = audience
            self.requiresFollow = requiresFollow
            self.opensAt = opensAt
            self.expiresAt = expiresAt
        }
    }

    public func list(of account: Account, by caller: Principal) async throws -> [RedEnvelope] {
        try caller.authorize(.listRedEnvelopes)
        return try await env.store.redEnvelopes(of: account)
    }

    public func read(_ id: String, of account: Account, by caller: Principal) async throws -> RedEnvelope {
        try caller.authorize(.readRedEnvelope)
        guard let envelope = try await env.store.redEnvelope(id: id, of: account) else { throw UseCaseError.notFound("red envelope \(id)") }
        return envelope
    }

    public func claims(of id: String, of account: Account, by caller: Principal) async throws -> [EnvelopeClaim] {
        try caller.authorize(.listEnvelopeClaims)
        guard try await env.store.redEnvelope(id: id, of: account) != nil else { throw UseCaseError.notFound("red envelope \(id)") }
        return try await env.store.envelopeClaims(id: id, of: account, limit: RedEnvelope.shareCounts.upperBound)
    }

    public func create(_ d: Draft, of account: Account, by caller: Principal) async throws -> RedEnvelope {
        try caller.authorize(.createRedEnvelope)
        let now = env.now()
        let split: EnvelopeSplit
        switch d.split ?? "fixed" {
        case "fixed":
            guard d.minFen == nil, d.maxFen == nil else { throw UseCaseError.invalid(field: "minFen", "only a random split has bounds; leave minFen and maxFen out") }
            split = .fixed
        case "random":
            guard let low = d.minFen, let high = d.maxFen else { throw UseCaseError.invalid(field: d.minFen == nil ? "minFen" : "maxFen", "a random split needs both bounds") }
            split = .random(minFen: low, maxFen: high)
        default:
            throw UseCaseError.invalid(field: "split", "must be fixed or random")
        }
        let opens = try Validate.period(d.opensAt, d.expiresAt, now: now, fields: ("opensAt", "expiresAt"))
        var rng = SystemRandomNumberGenerator()
        let shares: [Int64]
        do {
            shares = try split.shares(of: d.totalFen, count: d.shares, using: &rng)
        } catch {
            throw UseCaseError.invalid(field: error.field, error.message)
        }
        var envelope = RedEnvelope(id: env.newId("env"), accountId: account.id, name: try Validate.name(d.name, field: "name"), totalFen: d.totalFen,
                                   shares: d.shares, split: split, audience: try Validate.predicate(d.audience, field: "audience", example: "tier >= liking"),
                                   requiresFollow: d.requiresFollow ?? true, opensAt: opens, expiresAt: d.expiresAt, createdAt: now)
        envelope.holdoutPercent = try Validate.holdout(d.holdoutPercent)
        try await env.store.createRedEnvelope(envelope, shares: shares, audit: env.audit(tenantId: account.tenantId, actor: caller.actor,
                                                                                         action: "red_envelope.create", target: envelope.id,
                                                                                         detail: "\(envelope.name): \(d.totalFen) fen in \(d.shares)"))
        return envelope
    }

    /// Gives the fan the next share: refused, saying why, when the fan may not claim (outside the
    /// period or the audience, not following), when every share is taken, or when the fan has one.
    /// `key` (the request's Idempotency-Key): the same claim asked again answers the share it took.
    public func claim(_ id: String, for openId: String, of account: Account, key: String? = nil, by caller: Principal) async throws -> EnvelopeClaim {
        try caller.authorize(.claimRedEnvelope)
        let openId = try Validate.token(openId, field: "openId")
        let envelope = try await read(id, of: account, by: caller)
        do {
            return try await envelope.claim(for: openId, of: account, key: key, store: env.store, at: env.now())
        } catch let refusal as ClaimRefusal {
            throw UseCaseError.conflict(code: refusal.code, "red envelope \(id): \(refusal)")
        }
    }

    /// Fans who got it against fans held out, over the 30 days after each; nil without a holdout.
    public func experiment(of envelope: RedEnvelope, in account: Account) async throws -> ExperimentReport? {
        try await CampaignHoldout.report(.redEnvelope, id: envelope.id, name: envelope.name, percent: envelope.holdoutPercent, of: account, store: env.store)
    }
}
