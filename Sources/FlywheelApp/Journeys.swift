import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// The journeys context: automated paths for an account's fans, each with a holdout, and the
/// experiment report that says whether the path brings anything the holdout did not get.
public struct Journeys: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// A journey as written by the operator.
    public struct Draft: Sendable {
        public var name: String
        public var trigger: JourneyTrigger
        public var steps: [JourneyStep]
        public var reentry: Bool
        public var holdoutPercent: Int?
        public var quietHours: QuietHours?

        public init(name: String, trigger: JourneyTrigger, steps: [JourneyStep], reentry: Bool = false, holdoutPercent: Int? = nil,
                    quietHours: QuietHours? = .standard) {
            self.name = name
            self.trigger = trigger
            self.steps = steps
            self.reentry = reentry
            self.holdoutPercent = holdoutPercent
            self.quietHours = quietHours
        }
    }

    /// A journey with where its fans are.
    public struct Detail: Sendable {
        public var journey: Journey
        public var progress: JourneyProgress
    }

    public func create(_ draft: Draft, accountId: String, reachable: [String], by caller: Principal) async throws -> Journey {
        try caller.authorize(.createJourney)
        guard let account = try await env.store.account(id: accountId, tenantIds: reachable) else { throw UseCaseError.notFound("account \(accountId)") }
        let journey = Journey(tenantId: account.tenantId, accountId: account.id, id: env.newId("jrn"), name: draft.name.trimmingCharacters(in: .whitespaces),
                              trigger: Self.trimmed(draft.trigger), steps: draft.steps, reentry: draft.reentry, holdoutPercent: draft.holdoutPercent ?? Journey.defaultHoldout,
                              controlPercent: try await env.store.controlPercent(tenantId: account.tenantId), quietHours: draft.quietHours, createdAt: env.now())
        try await check(journey, in: account)
        try await env.store.createJourney(journey, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "journey.create",
                                                                    target: journey.id, detail: journey.name))
        return journey
    }

    /// The journeys of one account, or of every account the caller reaches.
    public func list(accountId: String?, reachable: [String], by caller: Principal) async throws -> [Journey] {
        try caller.authorize(.listJourneys)
        if let accountId {
            guard let account = try await env.store.account(id: accountId, tenantIds: reachable) else { throw UseCaseError.notFound("account \(accountId)") }
            return try await env.store.journeys(tenantId: account.tenantId, accountIds: [account.id])
        }
        var all: [Journey] = []
        for tenantId in reachable { all += try await env.store.journeys(tenantId: tenantId, accountIds: nil) }
        return all
    }

    public func journey(_ id: String, reachable: [String], as operation: Operation = .readJourney, by caller: Principal) async throws -> Journey {
        try caller.authorize(operation)
        for tenantId in reachable {
            if let found = try await env.store.journey(id, tenantId: tenantId, version: nil) { return found }
        }
        throw UseCaseError.notFound("journey \(id)")
    }

    public func detail(_ id: String, reachable: [String], by caller: Principal) async throws -> Detail {
        let journey = try await journey(id, reachable: reachable, by: caller)
        return Detail(journey: journey, progress: try await env.store.journeyProgress(journey.id, tenantId: journey.tenantId))
    }

    /// An edit: a draft is rewritten in place; a launched journey gets a new version that fans
    /// entering from now on follow, while fans already on it finish the version they entered.
    /// The holdout is fixed at launch. `version` is the version the edit was made on, when known.
    public func revise(_ id: String, _ draft: Draft, version: Int?, reachable: [String], by caller: Principal) async throws -> Journey {
        let current = try await journey(id, reachable: reachable, as: .changeJourney, by: caller)
        if let version, version != current.version {
            throw UseCaseError.conflict(code: "changed_meanwhile", "the journey is at version \(current.version) now; reload it and edit that")
        }
        guard let account = try await env.store.account(id: current.accountId, tenantIds: [current.tenantId]) else { throw UseCaseError.notFound("account") }
        var next = current
        next.name = draft.name.trimmingCharacters(in: .whitespaces)
        next.trigger = Self.trimmed(draft.trigger)
        next.steps = draft.steps
        next.reentry = draft.reentry
        next.quietHours = draft.quietHours
        if current.launchedAt == nil {
            next.holdoutPercent = draft.holdoutPercent ?? current.holdoutPercent
        } else {
            if let holdout = draft.holdoutPercent, holdout != current.holdoutPercent {
                throw UseCaseError.invalid(field: "holdoutPercent", "is fixed at launch (\(current.holdoutPercent) %): make a new journey for another holdout")
            }
            // What the launch prepared (a date's firing, a funnel's stage segments) holds for its kind only.
            if draft.trigger.kind != current.trigger.kind {
                throw UseCaseError.invalid(field: "trigger.kind", "is fixed at launch (\(current.trigger.kind.rawValue)): make a new journey for another kind of trigger")
            }
            if current.trigger.kind == .date, Self.trimmed(draft.trigger) != current.trigger {
                throw UseCaseError.invalid(field: "trigger", "a date journey's date and condition are fixed at launch: make a new journey for another date")
            }
            next.version = current.version + 1
        }
        try await check(next, in: account)
        do {
            try await env.store.reviseJourney(next, from: current.version, audit: env.audit(tenantId: current.tenantId, actor: caller.actor, action: "journey.change",
                                                                                              target: id, detail: "version \(next.version)"))
        } catch StoreError.refused(.changedMeanwhile) {
            throw UseCaseError.conflict(code: "changed_meanwhile", "someone else changed the journey meanwhile; reload it and edit again")
        }
        return next
    }

    /// Fans start entering: those who do the trigger from now on. The holdout and the enterprise's
    /// control share are fixed at the first launch.
    public func launch(_ id: String, reachable: [String], by caller: Principal) async throws -> Journey {
        var journey = try await journey(id, reachable: reachable, as: .launchJourney, by: caller)
        guard let account = try await env.store.account(id: journey.accountId, tenantIds: [journey.tenantId]) else { throw UseCaseError.notFound("account") }
        try await check(journey, in: account)
        let firesAt = journey.trigger.date(in: account.calendar)
        if journey.launchedAt == nil, let firesAt, firesAt <= env.now() {
            throw UseCaseError.invalid(field: "trigger.value", "\(journey.trigger.value) has passed; set a later date")
        }
        if journey.trigger.kind == .funnelStage { try await Funnels(flywheel).track([account], by: caller) }
        // The global control share is fixed at the first launch, as it stands then.
        let control = try await env.store.controlPercent(tenantId: journey.tenantId)
        if journey.launchedAt == nil, journey.controlPercent != control {
            journey.controlPercent = control
            try await env.store.reviseJourney(journey, from: journey.version, audit: env.audit(tenantId: journey.tenantId, actor: caller.actor,
                                                                                             action: "journey.change", target: id, detail: "control \(control)%"))
        }
        try await env.store.setJourneyState(id, tenantId: journey.tenantId, state: .active, launchedAt: env.now(), firesAt: firesAt,
                                            audit: env.audit(tenantId: journey.tenantId, actor: caller.actor, action: "journey.launch", target: id))
        return try await self.journey(id, reachable: [journey.tenantId], by: caller)
    }

    /// Nobody enters and nobody moves until it is launched again.
    public func pause(_ id: String, reachable: [String], by caller: Principal) async throws -> Journey {
        let journey = try await journey(id, reachable: reachable, as: .pauseJourney, by: caller)
        guard journey.state == .active else { throw UseCaseError.conflict(code: "not_active", "the journey is \(journey.state.rawValue), not active") }
        try await env.store.setJourneyState(id, tenantId: journey.tenantId, state: .paused, launchedAt: nil, firesAt: nil,
                                            audit: env.audit(tenantId: journey.tenantId, actor: caller.actor, action: "journey.pause", target: id))
        return try await self.journey(id, reachable: [journey.tenantId], by: caller)
    }

    /// The experiment a journey carries: treated against holdout over the window after entry.
    public func report(_ id: String, reachable: [String], by caller: Principal) async throws -> (report: ExperimentReport, journey: Journey) {
        let journey = try await journey(id, reachable: reachable, as: .readExperiment, by: caller)
        return (try await report(of: journey), journey)
    }

    public func report(of journey: Journey) async throws -> ExperimentReport {
        let fans = try await env.store.experimentFans(journey.id, tenantId: journey.tenantId, accountId: journey.accountId,
                                                      window: Int64(ExperimentReport.windowDays) * 86_400_000)
        return ExperimentReport(experimentId: journey.id, name: journey.name, holdoutPercent: journey.holdoutPercent, arms: fans.arms)
    }

    /// The trigger as kept: its value and condition without surrounding blanks, an empty condition none.
    static func trimmed(_ trigger: JourneyTrigger) -> JourneyTrigger {
        let condition = trigger.condition?.trimmingCharacters(in: .whitespacesAndNewlines)
        return JourneyTrigger(kind: trigger.kind, value: trigger.value.trimmingCharacters(in: .whitespaces), condition: condition?.isEmpty == false ? condition : nil)
    }

    /// What a journey needs beyond its own shape: a segment trigger names a dynamic segment of the
    /// account; a tag step, a tag of the enterprise (as an operator's tagging does); an audience
    /// step, a static segment of the account; a red envelope step, one of the account's envelopes.
    func check(_ journey: Journey, in account: Account) async throws {
        if let problem = journey.problem() { throw UseCaseError.invalid(field: problem.field, problem.message) }
        let defined = Set(try await env.store.tags(tenantId: account.tenantId).map(\.name))
        for (i, step) in journey.steps.enumerated() {
            switch step.kind {
            case .tag:
                guard let tag = step.tag, defined.contains(tag) else {
                    throw UseCaseError.invalid(field: "steps[\(i)].tag", "tag '\(step.tag ?? "")' is not defined; create it with POST /v1/tags")
                }
            case .audience:
                guard let segment = try await env.store.segment(id: step.segmentId ?? "", of: account), segment.predicate == nil else {
                    throw UseCaseError.invalid(field: "steps[\(i)].segmentId", "must be a static segment of the account (the audience a post is sent to)")
                }
            case .redEnvelope:
                guard try await env.store.redEnvelope(id: step.envelopeId ?? "", of: account) != nil else {
                    throw UseCaseError.invalid(field: "steps[\(i)].envelopeId", "no red envelope '\(step.envelopeId ?? "")' in the account")
                }
            default: break
            }
        }
        if journey.trigger.kind == .segment {
            guard let segment = try await env.store.segment(id: journey.trigger.value, of: account), segment.predicate != nil else {
                throw UseCaseError.invalid(field: "trigger.value", "must be a dynamic segment of the account")
            }
        }
    }

    /// The enterprise's global control group: a share of its fans (the same fans in every journey,
    /// by hash) that no automated action reaches. Journeys launched from now on keep it.
    public func controlPercent(tenantId: String?, reachable: [String], by caller: Principal) async throws -> (tenantId: String, percent: Int) {
        try caller.authorize(.readExperimentSettings)
        let tenantId = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        return (tenantId, try await env.store.controlPercent(tenantId: tenantId))
    }

    public func setControlPercent(_ percent: Int, tenantId: String?, reachable: [String], by caller: Principal) async throws -> (tenantId: String, percent: Int) {
        try caller.authorize(.changeExperimentSettings)
        let tenantId = try Validate.tenant(tenantId, caller: caller, reachable: reachable)
        guard Journey.controlRange.contains(percent) else { throw UseCaseError.invalid(field: "controlPercent", "must be 0 to 20") }
        try await env.store.setControlPercent(percent, tenantId: tenantId, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "experiments.control",
                                                                                            target: tenantId, detail: "\(percent)%"))
        return (tenantId, percent)
    }
}
