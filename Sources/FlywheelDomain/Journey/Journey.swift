import Foundation

/// What puts a fan on a journey: an event the fan does, reaching a tier, entering a segment or a
/// funnel stage, a lead of the fan's moved to a stage, or a date.
public struct JourneyTrigger: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// `value`: an event kind (`order_paid`, `lead_submitted`, `dm_received`, …).
        case event
        /// `value`: a tier's name; a fan moving up or down into it enters.
        case tier
        /// `value`: a segment's id.
        case segment
        /// `value`: a funnel stage after `new` (`settled` … `fissioned`); the fan enters when it
        /// enters the stage's segment, which keeps the stage's condition and every one before it.
        case funnelStage = "funnel_stage"
        /// `value`: a lead stage; the fan enters when an operator moves its lead into it.
        case leadStage = "lead_stage"
        /// `value`: "YYYY-MM-DD HH:MM" in the account's zone; then every fan matching `condition`
        /// (every fan when unset) enters, once.
        case date
    }

    public var kind: Kind
    public var value: String
    /// Who enters a `date` journey, in the predicate language.
    public var condition: String?

    public init(kind: Kind, value: String, condition: String? = nil) {
        self.kind = kind
        self.value = value
        self.condition = condition
    }

    /// A `date` trigger's moment in the account's calendar.
    public func date(in calendar: AccountCalendar) -> Int64? {
        let parts = value.split(separator: " ")
        guard kind == .date, parts.count == 2, let day = calendar.day(ofDate: String(parts[0])), let minutes = Journey.minutes(ofClock: String(parts[1])) else {
            return nil
        }
        return calendar.startOfDay(day) + Int64(minutes) * 60_000
    }
}

/// One step of a journey. Steps are numbered from 1; each goes on to `next` (the following step
/// when unset), a branch to `otherwise` when its predicate fails, a wait for an event to
/// `otherwise` when the time runs out. Jumps go forward only, so every path ends.
public struct JourneyStep: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// `minutes` later.
        case wait
        /// Until the next `at` ("HH:MM") in the account's time zone.
        case waitUntil = "wait_until"
        /// Until the fan does `event`, at most `minutes`; then `otherwise`.
        case waitForEvent = "wait_for_event"
        /// On when the fan matches `predicate` (the one predicate language), else `otherwise`.
        case branch
        /// A DM through the desk's outbox: `text`.
        case dm
        /// A coupon card by DM: `activityId`, `couponMetaId`.
        case coupon
        /// A fan-group invitation by DM: `groupId`.
        case groupInvitation = "group_invitation"
        /// Puts `tag` on the fan.
        case tag
        /// A follow-up task `text` on the fan's newest lead, due `minutes` later, for the lead's assignee.
        case leadTask = "lead_task"
        /// A `journey_step` change for the enterprise's webhook endpoints and stream: `label`.
        case webhook
        /// Adds the fan to the static segment `segmentId`: the audience of the posts sent to it.
        case audience
        /// Gives the fan a share of the red envelope `envelopeId` (its rules apply: open, audience,
        /// follow, one share a fan).
        case redEnvelope = "red_envelope"
        case end
    }

    public var kind: Kind
    public var minutes: Int?
    public var at: String?
    public var event: String?
    public var predicate: String?
    public var text: String?
    public var activityId: String?
    public var couponMetaId: String?
    public var groupId: String?
    public var tag: String?
    public var label: String?
    public var segmentId: String?
    public var envelopeId: String?
    public var next: Int?
    public var otherwise: Int?

    public init(kind: Kind, minutes: Int? = nil, at: String? = nil, event: String? = nil, predicate: String? = nil, text: String? = nil,
                activityId: String? = nil, couponMetaId: String? = nil, groupId: String? = nil, tag: String? = nil, label: String? = nil,
                segmentId: String? = nil, envelopeId: String? = nil, next: Int? = nil, otherwise: Int? = nil) {
        self.kind = kind
        self.minutes = minutes
        self.at = at
        self.event = event
        self.predicate = predicate
        self.text = text
        self.activityId = activityId
        self.couponMetaId = couponMetaId
        self.groupId = groupId
        self.tag = tag
        self.label = label
        self.segmentId = segmentId
        self.envelopeId = envelopeId
        self.next = next
        self.otherwise = otherwise
    }

    /// Whether the step reaches the fan (and so counts against quiet hours and the touch budget).
    public var touches: Bool { kind == .dm || kind == .coupon || kind == .groupInvitation }

    /// The DM it sends, for the steps that send one.
    public var content: MessageContent? {
        switch kind {
        case .dm: text.map(MessageContent.text)
        case .coupon: activityId.flatMap { a in couponMetaId.map { MessageContent.coupon(activityId: a, couponMetaId: $0) } }
        case .groupInvitation: groupId.map(MessageContent.groupInvitation)
        default: nil
        }
    }
}

/// Hours of the day, in the account's zone, when no journey reaches a fan: a step due then waits
/// for their end. `start` after `end` spans midnight (22:00–08:00).
public struct QuietHours: Sendable, Equatable, Codable {
    /// Minutes after midnight.
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    public static let standard = QuietHours(start: 22 * 60, end: 8 * 60)

    public func contains(minuteOfDay m: Int) -> Bool {
        start <= end ? (start..<end).contains(m) : m >= start || m < end
    }

    /// "22:00–08:00".
    public var text: String { "\(Journey.clock(start))–\(Journey.clock(end))" }
}

public enum JourneyState: String, Sendable, CaseIterable, Codable {
    /// Being written: nobody enters.
    case draft
    /// Fans enter and advance.
    case active
    /// Nobody enters; fans in it wait where they are until it is resumed.
    case paused
}

/// An automated path for the fans of one account: a trigger, then waits, branches and actions,
/// with a holdout that gets none of the actions. Each edit of a launched journey is a new version;
/// fans already on it finish the version they entered.
public struct Journey: Sendable, Equatable {
    public var tenantId: String
    public var accountId: String
    public var id: String
    public var name: String
    public var version: Int
    public var trigger: JourneyTrigger
    public var steps: [JourneyStep]
    /// Whether a fan who finished may enter again (never twice at once).
    public var reentry: Bool
    /// Share of entering fans kept out of every action, to measure the journey against (0–50 %).
    public var holdoutPercent: Int
    /// The enterprise's global control group at launch (0–20 %): no automated action reaches them.
    public var controlPercent: Int
    public var quietHours: QuietHours?
    public var state: JourneyState
    public var createdAt: Int64
    public var launchedAt: Int64?

    public init(tenantId: String, accountId: String, id: String, name: String, version: Int = 1, trigger: JourneyTrigger, steps: [JourneyStep],
                reentry: Bool = false, holdoutPercent: Int = Journey.defaultHoldout, controlPercent: Int = Journey.defaultControl,
                quietHours: QuietHours? = .standard, state: JourneyState = .draft, createdAt: Int64, launchedAt: Int64? = nil) {
        self.tenantId = tenantId
        self.accountId = accountId
        self.id = id
        self.name = name
        self.version = version
        self.trigger = trigger
        self.steps = steps
        self.reentry = reentry
        self.holdoutPercent = holdoutPercent
        self.controlPercent = controlPercent
        self.quietHours = quietHours
        self.state = state
        self.createdAt = createdAt
        self.launchedAt = launchedAt
    }

    public static let defaultHoldout = 10
    public static let defaultControl = 5
    public static let holdoutRange = 0...50
    public static let controlRange = 0...20
    public static let maxSteps = 30
    /// The longest wait: 90 days.
    public static let maxWaitMinutes = 90 * 24 * 60
    public static let maxPerAccount = 50

    /// The run of a fan entering at `at` by what is at log position `seq` (the moment itself for a
    /// date or a lead's move): on its arm, waiting for its first step unless held out.
    public func entry(_ openId: String, seq: Int64, at: Int64) -> JourneyRun {
        let arm = ExperimentArm.of(openId, experiment: id, holdoutPercent: holdoutPercent, tenantId: tenantId, controlPercent: controlPercent)
        return JourneyRun(journeyId: id, openId: openId, enteredSeq: seq, version: version, arm: arm, state: arm == .treated ? .waiting : .held, dueAt: at,
                          enteredAt: at)
    }

    /// What is wrong with the definition, as (field, message); nil when it can run.
    public func problem() -> (field: String, message: String)? {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard (1...80).contains(name.count) else { return ("name", "must be 1 to 80 characters") }
        switch trigger.kind {
        case .event where EventKind(rawValue: trigger.value) == nil:
            return ("trigger.value", "'\(trigger.value.prefix(40))' is not an event kind")
        case .tier where Tier(name: trigger.value) == nil:
            return ("trigger.value", "'\(trigger.value.prefix(40))' is not a tier (potential, passerby, liking, true_love)")
        case .segment where trigger.value.isEmpty || trigger.value.utf8.count > 100:
            return ("trigger.value", "must be a segment id")
        case .funnelStage where FunnelStage(rawValue: trigger.value).map({ $0 == .new }) ?? true:
            return ("trigger.value", "'\(trigger.value.prefix(40))' is not a funnel stage after new (settled, active, converted, repurchased, fissioned)")
        case .leadStage where LeadStage(rawValue: trigger.value).map({ $0 == .new }) ?? true:
            return ("trigger.value", "'\(trigger.value.prefix(40))' is not a stage a lead moves to (contacted, qualified, won, lost)")
        case .date where trigger.date(in: AccountCalendar(timeZone: .gmt)) == nil:
            return ("trigger.value", "must be a date and time, YYYY-MM-DD HH:MM, in the account's zone")
        default: break
        }
        if let condition = trigger.condition {
            guard trigger.kind == .date else { return ("trigger.condition", "is only for a date trigger") }
            guard condition.utf8.count <= 2_000 else { return ("trigger.condition", "must be at most 2,000 bytes") }
            do { _ = try FanPredicate.parse(condition) } catch { return ("trigger.condition", "\(error)") }
        }
        guard (1...Self.maxSteps).contains(steps.count) else { return ("steps", "must hold 1 to \(Self.maxSteps) steps") }
        guard Self.holdoutRange.contains(holdoutPercent) else { return ("holdoutPercent", "must be 0 to 50") }
        guard Self.controlRange.contains(controlPercent) else { return ("controlPercent", "must be 0 to 20") }
        if let q = quietHours, !(0..<1_440).contains(q.start) || !(0..<1_440).contains(q.end) || q.start == q.end {
            return ("quietHours", "start and end must be different times of day")
        }
        for (i, step) in steps.enumerated() {
            let number = i + 1, field = "steps[\(i)]"
            for (jump, name) in [(step.next, "next"), (step.otherwise, "otherwise")] {
                if let jump, !(number + 1...steps.count + 1).contains(jump) {
                    return ("\(field).\(name)", "must be a later step (\(number + 1) to \(steps.count + 1), the last meaning the end)")
                }
            }
            if let problem = step.problem() { return ("\(field).\(problem.field)", problem.message) }
        }
        return nil
    }

    /// "HH:MM" as minutes after midnight.
    public static func minutes(ofClock text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m) else {
            return nil
        }
        return h * 60 + m
    }

    public static func clock(_ minutes: Int) -> String {
        String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }
}

extension JourneyStep {
    func problem() -> (field: String, message: String)? {
        func text(_ value: String?, _ field: String, max: Int) -> (String, String)? {
            guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty, value.count <= max else { return (field, "is required, at most \(max) characters") }
            return nil
        }
        switch kind {
        case .wait:
            guard let minutes, (1...Journey.maxWaitMinutes).contains(minutes) else { return ("minutes", "must be 1 to \(Journey.maxWaitMinutes) (90 days)") }
        case .waitUntil:
            guard at.flatMap(Journey.minutes(ofClock:)) != nil else { return ("at", "must be a time of day, HH:MM") }
        case .waitForEvent:
            guard let event, EventKind(rawValue: event) != nil else { return ("event", "must be an event kind") }
            guard let minutes, (1...Journey.maxWaitMinutes).contains(minutes) else { return ("minutes", "must be 1 to \(Journey.maxWaitMinutes) (90 days)") }
        case .branch:
            guard let predicate, predicate.utf8.count <= 2_000 else { return ("predicate", "is required, at most 2,000 bytes") }
            do { _ = try FanPredicate.parse(predicate) } catch { return ("predicate", "\(error)") }
        case .dm: return text(self.text, "text", max: 500)
        case .coupon: return text(activityId, "activityId", max: 100) ?? text(couponMetaId, "couponMetaId", max: 100)
        case .groupInvitation: return text(groupId, "groupId", max: 100)
        case .tag: return text(tag, "tag", max: 40)
        case .leadTask:
            guard let minutes, (0...Journey.maxWaitMinutes).contains(minutes) else { return ("minutes", "must be 0 to \(Journey.maxWaitMinutes) (90 days)") }
            return text(self.text, "text", max: 500)
        case .webhook: return text(label, "label", max: 100)
        case .audience: return text(segmentId, "segmentId", max: 100)
        case .redEnvelope: return text(envelopeId, "envelopeId", max: 100)
        case .end: break
        }
        return nil
    }
}

/// Where one fan stands on a journey.
public struct JourneyRun: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable, Codable {
        /// Waiting until `dueAt` (or for `waitingFor`, then at the latest `dueAt`).
        case waiting
        /// At the end of the journey.
        case done
        /// Entered but held out (the journey's holdout or the global control): no step runs.
        case held
    }

    public var journeyId: String
    public var openId: String
    /// The log position of what put the fan on the journey: one run per entry.
    public var enteredSeq: Int64
    public var version: Int
    public var arm: ExperimentArm
    /// The step it is at, from 1 (0 on entry, before its first step); past the last when done.
    public var step: Int
    public var state: State
    public var dueAt: Int64
    /// The event kind a `wait_for_event` step waits for.
    public var waitingFor: String?
    public var enteredAt: Int64
    /// Bumped by each advance: two workers cannot both move the same run.
    public var revision: Int

    public init(journeyId: String, openId: String, enteredSeq: Int64, version: Int, arm: ExperimentArm, step: Int = 0, state: State, dueAt: Int64,
                waitingFor: String? = nil, enteredAt: Int64, revision: Int = 0) {
        self.journeyId = journeyId
        self.openId = openId
        self.enteredSeq = enteredSeq
        self.version = version
        self.arm = arm
        self.step = step
        self.state = state
        self.dueAt = dueAt
        self.waitingFor = waitingFor
        self.enteredAt = enteredAt
        self.revision = revision
    }
}
