import FlywheelDomain
import FlywheelStore
import Foundation

/// Fans entering journeys as the events that trigger them are projected (in the batch's own
/// transaction, so an entry is never lost or made twice), and runs waiting for an event woken by it.
/// Only what happens after a journey's launch triggers it.
struct JourneyProjection: Projection {
    func writes(for batch: ProjectionBatch, applied: AppliedBatch, now: Int64) -> [any ProjectionWrite] {
        var writes: [any ProjectionWrite] = []
        if !batch.journeyWaits.isEmpty {
            let woken = applied.events.filter { batch.journeyWaits.contains($0.stored.event.kind.rawValue) }
                .map { (openId: $0.stored.event.openId, kind: $0.stored.event.kind.rawValue, at: min($0.stored.event.occurredAt, now)) }
            if !woken.isEmpty { writes.append(JourneyWakeWrite(events: woken)) }
        }
        guard !batch.journeys.isEmpty else { return writes }
        var entries: [(reentry: Bool, run: JourneyRun)] = []
        var seen: Set<[String]> = []
        func enter(_ journey: Journey, _ openId: String, seq: Int64, at: Int64) {
            guard let launched = journey.launchedAt, at >= launched, seen.insert([journey.id, openId]).inserted else { return }
            entries.append((journey.reentry, journey.entry(openId, seq: seq, at: min(at, now))))
        }
        let transitions = applied.writes.compactMap { $0 as? TierTransitionsWrite }.flatMap(\.transitions)
        // A funnel stage is followed by its live segment (`Funnels.track`, at the journey's launch).
        let stageSegments = Dictionary(batch.segments.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
        func segmentId(_ trigger: JourneyTrigger) -> String? {
            switch trigger.kind {
            case .segment: trigger.value
            case .funnelStage: FunnelStage(rawValue: trigger.value).flatMap { stageSegments[$0.segmentName] }
            default: nil
            }
        }
        let triggerSegments = Set(batch.journeys.compactMap { segmentId($0.trigger) })
        let segmentEntries = triggerSegments.isEmpty ? [] : Projector.segmentChanges(
            batch.segments.filter { triggerSegments.contains($0.id) }, memberships: batch.memberships, fans: applied.changed, causes: applied.causes,
            otherwise: ("rules_changed", -Int64(batch.rulesVersion), now), calendar: batch.account.calendar, now: now).filter(\.entered)
        for journey in batch.journeys {
            switch journey.trigger.kind {
            case .event:
                for e in applied.events where e.stored.event.kind.rawValue == journey.trigger.value {
                    enter(journey, e.stored.event.openId, seq: e.stored.seq, at: e.stored.event.occurredAt)
                }
            case .tier:
                guard let tier = Tier(name: journey.trigger.value) else { continue }
                for (t, causeSeq, _) in transitions where t.to == tier && t.from != tier {
                    enter(journey, t.openId, seq: causeSeq, at: t.at)
                }
            case .segment, .funnelStage:
                for change in segmentEntries where change.segmentId == segmentId(journey.trigger) {
                    enter(journey, change.openId, seq: change.causeSeq, at: change.at)
                }
            case .leadStage, .date:
                // Entered by the lead's move (`Leads.change`) and by the runner at the date.
                continue
            }
        }
        if !entries.isEmpty { writes.append(JourneyEntriesWrite(entries: entries)) }
        return writes
    }
}

/// Moves fans along their journeys: each due run goes through its steps until a wait, the end, or
/// quiet hours; DMs are queued in the desk's outbox in the transaction that moves the run, within
/// the account's touch budget and the platform's DM rules, so a step is never sent twice.
public struct JourneyRunner: Sendable {
    let env: FlywheelEnvironment

    public init(_ env: FlywheelEnvironment) { self.env = env }

    /// How long a run whose step failed waits before it is tried again: the others due go first.
    static let retryAfter: Int64 = 60_000

    /// Enters the fans of date journeys whose moment has come, then advances up to `limit` due
    /// runs; returns how many entered or moved.
    @discardableResult
    public func runDue(limit: Int = 500) async throws -> Int {
        var moved = await fireDates()
        let due = try await env.store.dueJourneyRuns(now: env.now(), limit: limit)
        var journeys: [String: Journey] = [:], accounts: [String: Account] = [:]
        var branches: [String: CompiledPredicate] = [:]
        for d in due {
            let key = "\(d.tenantId)|\(d.run.journeyId)|\(d.run.version)"
            if journeys[key] == nil { journeys[key] = try await env.store.journey(d.run.journeyId, tenantId: d.tenantId, version: d.run.version) }
            if accounts[d.accountId] == nil { accounts[d.accountId] = try await env.store.account(id: d.accountId, tenantIds: [d.tenantId]) }
            guard let journey = journeys[key], let account = accounts[d.accountId] else { continue }
            do {
                if try await advance(d.run, of: journey, in: account, branches: &branches) { moved += 1 }
            } catch {
                // One fan's failure (a store refusal, a bad fan row) must not hold the others back,
                // nor keep its place at the head of the due runs: it is tried again a minute later.
                env.logger.error("journey step failed; will retry", metadata: ["journey": "\(journey.id)", "fan": "\(d.run.openId)", "error": "\(error)"])
                var later = d.run
                later.dueAt = env.now().saturatingAdd(Self.retryAfter)
                _ = try? await env.store.advanceJourneyRun(JourneyAdvance(tenantId: account.tenantId, accountId: account.id, run: later, steps: []))
            }
        }
        return moved
    }

    /// Every fan matching a date journey's condition enters it at its moment, a page at a time (a
    /// page entered again after a crash enters nobody twice); the last page marks it fired. One
    /// journey's failure is logged and leaves the others, and the due runs, be.
    func fireDates() async -> Int {
        var entered = 0
        do {
            for journey in try await env.store.journeysToFire(now: env.now(), limit: 10) {
                do {
                    entered += try await fire(journey)
                } catch {
                    env.logger.error("date journey failed to fire; will retry", metadata: ["journey": "\(journey.id)", "error": "\(error)"])
                }
            }
        } catch {
            env.logger.error("date journeys could not be read; will retry", metadata: ["error": "\(error)"])
        }
        return entered
    }

    func fire(_ journey: Journey) async throws -> Int {
        guard let account = try await env.store.account(id: journey.accountId, tenantIds: [journey.tenantId]),
              let moment = journey.trigger.date(in: account.calendar) else {
            // Its account is gone: nobody to enter, and it must not come back every round.
            try await env.store.enterJourney(journey, runs: [], fired: true)
            return 0
        }
        let condition: FanPredicate?
        do {
            condition = try journey.trigger.condition.map(FanPredicate.parse)
        } catch {
            // Checked when saved; a condition the language no longer reads enters nobody, once, rather than every round.
            env.logger.error("date journey's condition no longer parses; it enters nobody", metadata: ["journey": "\(journey.id)", "error": "\(error)"])
            try await env.store.enterJourney(journey, runs: [], fired: true)
            return 0
        }
        var entered = 0
        var cursor: String?
        repeat {
            let page = try await env.store.fans(of: account, matching: condition, now: env.now(), cursor: cursor, limit: 1_000)
            try await env.store.enterJourney(journey, runs: page.items.map { journey.entry($0.openId, seq: moment, at: moment) }, fired: page.nextCursor == nil)
            entered += page.items.count
            cursor = page.nextCursor
        } while cursor != nil
        return entered
    }

    /// Runs every due step until none is due (tests and the demo).
    public func drain() async throws {
        while try await runDue() > 0 {}
    }

    /// `branches`: the round's branch conditions compiled, by account and text, each once.
    func advance(_ read: JourneyRun, of journey: Journey, in account: Account, branches: inout [String: CompiledPredicate]) async throws -> Bool {
        let now = env.now()
        var run = read
        var records: [JourneyStepRecord] = []
        var desk: DeskChange?
        var joins: [(segmentId: String, at: Int64)] = []
        var fan: FanState?
        func record(_ step: Int, _ kind: String, _ outcome: String) {
            records.append(JourneyStepRecord(journeyId: journey.id, openId: run.openId, enteredSeq: run.enteredSeq, step: step, kind: kind, outcome: outcome, at: now))
        }
        let steps = journey.steps
        var n = max(run.step, 1)
        // Due at a wait: the wait is over, by its time or (waiting for an event) by the event.
        if run.step > 0, steps.indices.contains(n - 1), [.wait, .waitUntil, .waitForEvent].contains(steps[n - 1].kind) {
            let s = steps[n - 1]
            if s.kind == .waitForEvent, run.waitingFor != nil {
                record(n, s.kind.rawValue, "timed out")
                n = s.otherwise ?? n + 1
            } else {
                record(n, s.kind.rawValue, s.kind == .waitForEvent ? "event came" : "waited")
                n = s.next ?? n + 1
            }
            run.waitingFor = nil
        }
        var stopped = false
        while !stopped, steps.indices.contains(n - 1) {
            let s = steps[n - 1]
            switch s.kind {
            case .wait:
                run.dueAt = now.saturatingAdd(Int64(s.minutes ?? 1) * 60_000)
                stopped = true
            case .waitUntil:
                run.dueAt = Self.next(clock: s.at.flatMap(Journey.minutes(ofClock:)) ?? 0, after: now, calendar: account.calendar)
                stopped = true
            case .waitForEvent:
                run.waitingFor = s.event
                run.dueAt = now.saturatingAdd(Int64(s.minutes ?? 1) * 60_000)
                stopped = true
            case .branch:
                if fan == nil { fan = try await env.store.fan(of: account, openId: run.openId) }
                let key = account.id + "|" + (s.predicate ?? "")
                if branches[key] == nil { branches[key] = (try? FanPredicate.parse(s.predicate ?? ""))?.compile(calendar: account.calendar) }
                // A condition that no longer parses (the language changed since it was saved) is not met.
                let yes = fan.flatMap { f in branches[key]?.matches(f, now: now) } ?? false
                record(n, s.kind.rawValue, yes ? "yes" : "no")
                n = yes ? s.next ?? n + 1 : s.otherwise ?? n + 1
            case .tag:
                let tag = s.tag ?? ""
                _ = try await Tagging(env).tag([(run.openId, "journey:\(journey.id):\(run.openId):\(run.enteredSeq):\(n)")], of: account, tag: tag, add: true,
                                               actor: "journey:\(journey.id)")
                record(n, s.kind.rawValue, "tagged \(tag)")
                n = s.next ?? n + 1
            case .leadTask:
                record(n, s.kind.rawValue, try await task(s, step: n, of: run, journey: journey, in: account, at: now))
                n = s.next ?? n + 1
            case .webhook:
                record(n, s.kind.rawValue, s.label ?? "")
                n = s.next ?? n + 1
            case .audience:
                joins.append((s.segmentId ?? "", now))
                record(n, s.kind.rawValue, "joined \(s.segmentId ?? "")")
                n = s.next ?? n + 1
            case .redEnvelope:
                record(n, s.kind.rawValue, try await envelope(s, step: n, of: run, journey: journey, in: account, at: now))
                n = s.next ?? n + 1
            case .end:
                record(n, s.kind.rawValue, "end")
                n = steps.count + 1
            case .dm, .coupon, .groupInvitation:
                if let quiet = journey.quietHours, quiet.contains(minuteOfDay: Self.minuteOfDay(now, calendar: account.calendar)) {
                    run.dueAt = Self.next(clock: quiet.end, after: now, calendar: account.calendar)
                    stopped = true
                } else if desk != nil {
                    // One message a transaction: the next goes in the next round, at once.
                    run.dueAt = now
                    stopped = true
                } else {
                    let (change, outcome) = try await message(s, step: n, of: run, journey: journey, in: account, at: now)
                    desk = change
                    record(n, s.kind.rawValue, outcome)
                    n = s.next ?? n + 1
                }
            }
        }
        run.step = n
        if !steps.indices.contains(n - 1) { run.state = .done }
        return try await env.store.advanceJourneyRun(JourneyAdvance(tenantId: account.tenantId, accountId: account.id, run: run, steps: records, desk: desk,
                                                                    joins: joins))
    }

    /// A share of the step's red envelope, under the envelope's own rules; keyed by the run and the
    /// step, so a step taken again (the run moved meanwhile) answers the share it took.
    func envelope(_ s: JourneyStep, step: Int, of run: JourneyRun, journey: Journey, in account: Account, at now: Int64) async throws -> String {
        guard let envelope = try await env.store.redEnvelope(id: s.envelopeId ?? "", of: account) else { return "skipped: the red envelope is gone" }
        do {
            let claim = try await envelope.claim(for: run.openId, of: account, key: "journey:\(journey.id):\(run.openId):\(run.enteredSeq):\(step)",
                                                 store: env.store, at: now)
            return "gave \(claim.amountFen) fen"
        } catch let refusal as ClaimRefusal {
            return "skipped: \(refusal)"
        }
    }

    /// The step's DM, queued if the platform and the account's rules allow it now; otherwise what
    /// held it back (the run goes on either way: a journey does not wait for a window to open).
    func message(_ s: JourneyStep, step: Int, of run: JourneyRun, journey: Journey, in account: Account, at now: Int64) async throws -> (DeskChange?, String) {
        guard let content = s.content else { return (nil, "skipped: nothing to send") }
        guard let tokens = try await env.store.tokens(of: account), Desk.allowsDirectMessages(tokens.scope) else {
            return (nil, "skipped: the account cannot send DMs")
        }
        guard let c = try await env.store.conversation(of: account, openId: run.openId), c.canReply(at: now) || c.mayMessage(at: now) else {
            return (nil, "skipped: the fan has not written in 24 hours nor allowed messages")
        }
        let key = "journey:\(journey.id):\(run.openId):\(run.enteredSeq):\(step)"
        var change = DeskChange(accountId: account.id)
        let budget = try await env.store.touchBudget(of: account)
        let recent = try await env.store.recentTouches(of: account, openId: run.openId, now: now)[run.openId] ?? RecentTouches()
        guard budget.admits(recent) else {
            change.touch = TouchFanout(touchpoint: .directMessage, ref: key, at: now, reached: [], heldBack: [run.openId])
            return (change, "held back: touch budget")
        }
        let inWindow = c.canReply(at: now)
        if !inWindow {
            let today = account.calendar.startOfDay(account.calendar.day(ofMillis: now))
            guard try await env.store.proactiveMessages(of: account, openId: run.openId, since: today) < Conversation.proactivePerDay else {
                return (nil, "skipped: three proactive messages today")
            }
            change.proactiveCap = (run.openId, today)
        }
        let (message, outbox) = Desk.queue(content, to: run.openId, of: account, author: .auto, authorId: "journey:\(journey.id)",
                                           replyTo: inWindow ? c.replyTo : nil,
                                           replyBy: inWindow ? c.lastFanMessageAt.map { $0.saturatingAdd(Conversation.replyWindow) } : nil,
                                           key: key, id: env.newId("out"), at: now)
        change.messages = [message]
        change.outbox = [outbox]
        change.touch = TouchFanout(touchpoint: .directMessage, ref: key, at: now, reached: [run.openId], heldBack: [])
        return (change, "sent")
    }

    /// A follow-up on the fan's newest lead, for its assignee, once per step of a run (its id comes
    /// from the run and the step).
    func task(_ s: JourneyStep, step: Int, of run: JourneyRun, journey: Journey, in account: Account, at now: Int64) async throws -> String {
        var filter = LeadFilter()
        filter.openId = run.openId
        guard let lead = try await env.store.leads(tenantId: account.tenantId, filter: filter, cursor: nil, limit: 1).items.first else {
            return "skipped: the fan has left no lead"
        }
        let id = "fu_\(journey.id)_\(run.openId)_\(run.enteredSeq)_\(step)"
        let followUp = FollowUp(id: id, leadId: lead.id, dueAt: now.saturatingAdd(Int64(s.minutes ?? 0) * 60_000), note: s.text ?? "", assignee: lead.assignee,
                                createdAt: now)
        // Made by this step before when the run had moved on meanwhile and takes the step again.
        if try await !env.store.followUps(tenantId: account.tenantId, leadId: lead.id, dueBefore: nil, assignee: nil, limit: 1_000).contains(where: { $0.id == id }) {
            try await env.store.createFollowUp(followUp, tenantId: account.tenantId, audit: env.audit(tenantId: account.tenantId, actor: "journey:\(journey.id)",
                                                                                                    action: "follow_up.create", target: id, detail: lead.id))
        }
        return "task on \(lead.id)"
    }

    static func minuteOfDay(_ ms: Int64, calendar: AccountCalendar) -> Int {
        Int((ms - calendar.startOfDay(calendar.day(ofMillis: ms))) / 60_000)
    }

    /// The next time after `now` that the account's clock shows `clock` (minutes after midnight).
    static func next(clock: Int, after now: Int64, calendar: AccountCalendar) -> Int64 {
        let today = calendar.day(ofMillis: now)
        let at = calendar.startOfDay(today) + Int64(clock) * 60_000
        return at > now ? at : calendar.startOfDay(today + 1) + Int64(clock) * 60_000
    }
}
