import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// The console's journeys: a form-based builder (a trigger, up to ten numbered steps, the holdout
/// and quiet hours), the flow drawn, where the fans are, and the experiment's report with each
/// uplift's interval drawn against zero.
extension ConsoleRoutes {
    func addJourneys(to console: RouterGroup<FlywheelRequestContext>) {
        console.get("journeys", use: journeysPage)
        console.post("journeys", use: newJourney)
        console.get("journeys/:journeyId", use: journeyPage)
        console.post("journeys/:journeyId", use: editJourney)
        console.post("journeys/:journeyId/launch", use: launchJourney)
        console.post("journeys/:journeyId/pause", use: pauseJourney)
        console.post("experiment-settings", use: changeControlGroup)
    }

    /// The builder's form: filled from a journey, or empty.
    struct JourneyForm {
        struct Row { var index: Int; var number: Int; var kinds: [SelectOption]; var value: String; var next: String; var otherwise: String }
        var action: String
        var csrf: String
        var name: String
        var triggers: [SelectOption]
        /// A date trigger's moment and condition, typed beside the choice "on a date".
        var date: String
        var condition: String
        var holdout: Int
        var holdoutFixed: Bool
        var quietStart: String
        var quietEnd: String
        var reentry: Bool
        var version: Int?
        var rows: [Row]

        static let rows = 10

        init(action: String, csrf: String, journey: Journey?, segments: [Segment], _ t: Language) {
            self.action = action
            self.csrf = csrf
            name = journey?.name ?? ""
            let chosen = journey.map { $0.trigger.kind == .date ? "date:" : "\($0.trigger.kind.rawValue):\($0.trigger.value)" } ?? "event:follow"
            let events: [EventKind] = [.follow, .orderPaid, .leadSubmitted, .dmReceived, .couponClaimed, .liveBooked, .groupJoin, .unfollow]
            triggers = events.map { SelectOption(value: "event:\($0.rawValue)", label: t.pick("Event: ", "事件：") + t.kind($0)) }
                + Tier.allCases.map { SelectOption(value: "tier:\($0.name)", label: t.pick("Reaches ", "分层达到 ") + t.tier($0)) }
                + segments.filter { $0.predicate != nil }.map { SelectOption(value: "segment:\($0.id)", label: t.pick("Enters ", "进入人群 ") + $0.name) }
                + FunnelStage.allCases.dropFirst().map { SelectOption(value: "funnel_stage:\($0.rawValue)", label: t.pick("Funnel stage: ", "漏斗阶段：") + t.stage($0)) }
                + LeadStage.allCases.dropFirst().map { SelectOption(value: "lead_stage:\($0.rawValue)", label: t.pick("A lead moves to ", "线索进入 ") + t.leadStage($0)) }
                + [SelectOption(value: "date:", label: t.pick("On the date below", "按下方日期定时"))]
            for i in triggers.indices { triggers[i].selected = triggers[i].value == chosen }
            date = journey?.trigger.kind == .date ? journey?.trigger.value ?? "" : ""
            condition = journey?.trigger.condition ?? ""
            holdout = journey?.holdoutPercent ?? Journey.defaultHoldout
            holdoutFixed = journey?.launchedAt != nil
            let quiet = journey == nil ? QuietHours.standard : journey?.quietHours
            quietStart = quiet.map { Journey.clock($0.start) } ?? ""
            quietEnd = quiet.map { Journey.clock($0.end) } ?? ""
            reentry = journey?.reentry ?? false
            version = journey?.version
            let steps = journey?.steps ?? [JourneyStep(kind: .dm, text: t.pick("Welcome! Here is what is new this week.", "欢迎关注！本周上新看这里。")),
                                            JourneyStep(kind: .wait, minutes: 1_440), JourneyStep(kind: .branch, predicate: "orders >= 1", next: 5),
                                            JourneyStep(kind: .dm, text: t.pick("A fan's price for you this week: reply 1 to get it.", "本周粉丝专享价，回复 1 领取。"))]
            self.rows = (0..<max(Self.rows, steps.count)).map { i in
                let step = steps.indices.contains(i) ? steps[i] : nil
                return Row(index: i, number: i + 1, kinds: [SelectOption(value: "", label: "—", selected: step == nil)]
                    + JourneyStep.Kind.allCases.map { SelectOption(value: $0.rawValue, label: t.stepKind($0.rawValue), selected: step?.kind == $0) },
                           value: step.map(Self.value) ?? "", next: step?.next.map(String.init) ?? "", otherwise: step?.otherwise.map(String.init) ?? "")
            }
        }

        /// A step's one value box: what its kind needs, as typed in the form.
        static func value(_ s: JourneyStep) -> String {
            switch s.kind {
            case .wait: s.minutes.map(String.init) ?? ""
            case .waitUntil: s.at ?? ""
            case .waitForEvent: [s.event, s.minutes.map(String.init)].compactMap { $0 }.joined(separator: " ")
            case .branch: s.predicate ?? ""
            case .dm: s.text ?? ""
            case .coupon: [s.activityId, s.couponMetaId].compactMap { $0 }.joined(separator: " ").trimmingCharacters(in: .whitespaces)
            case .groupInvitation: s.groupId ?? ""
            case .tag: s.tag ?? ""
            case .audience: s.segmentId ?? ""
            case .redEnvelope: s.envelopeId ?? ""
            case .leadTask: [s.minutes.map(String.init), s.text].compactMap { $0 }.joined(separator: " ")
            case .webhook: s.label ?? ""
            case .end: ""
            }
        }

        /// The journey the form describes; a field it cannot read is refused by name.
        static func draft(_ form: [String: String]) throws(UseCaseError) -> Journeys.Draft {
            var trigger = (form["trigger"] ?? "").split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if trigger.first == JourneyTrigger.Kind.date.rawValue { trigger = ["date", (form["date"] ?? "").trimmingCharacters(in: .whitespaces)] }
            guard trigger.count == 2, let kind = JourneyTrigger.Kind(rawValue: trigger[0]) else { throw .invalid(field: "trigger", "choose what starts the journey") }
            let condition = (form["condition"] ?? "").trimmingCharacters(in: .whitespaces)
            let holdout = (form["holdout"] ?? "").isEmpty ? nil : Int(form["holdout"] ?? "")
            if (form["holdout"] ?? "").isEmpty == false, holdout == nil { throw .invalid(field: "holdoutPercent", "must be a whole number, 0 to 50") }
            var quiet: QuietHours?
            let start = (form["quietStart"] ?? "").trimmingCharacters(in: .whitespaces), end = (form["quietEnd"] ?? "").trimmingCharacters(in: .whitespaces)
            if !start.isEmpty || !end.isEmpty {
                guard let s = Journey.minutes(ofClock: start), let e = Journey.minutes(ofClock: end) else {
                    throw .invalid(field: "quietHours", "start and end must be times of day, HH:MM (both empty: none)")
                }
                quiet = QuietHours(start: s, end: e)
            }
            let filled = (0..<rows).filter { !(form["kind\($0)"] ?? "").isEmpty }
            var steps: [JourneyStep] = []
            for i in 0..<(filled.last.map { $0 + 1 } ?? 0) {
                guard let kind = JourneyStep.Kind(rawValue: form["kind\(i)"] ?? "") else {
                    throw .invalid(field: "steps[\(i)].kind", "choose a kind, or leave this row and those after it empty")
                }
                let value = (form["value\(i)"] ?? "").trimmingCharacters(in: .whitespaces)
                let words = value.split(whereSeparator: \.isWhitespace).map(String.init)
                var step = JourneyStep(kind: kind, next: Int(form["next\(i)"] ?? ""), otherwise: Int(form["otherwise\(i)"] ?? ""))
                switch kind {
                case .wait: step.minutes = Int(value)
                case .waitUntil: step.at = value
                case .waitForEvent: (step.event, step.minutes) = (words.first, words.dropFirst().first.flatMap { Int($0) })
                case .branch: step.predicate = Language.canonicalPredicate(value)
                case .dm: step.text = value
                case .coupon: (step.activityId, step.couponMetaId) = (words.first, words.dropFirst().first)
                case .groupInvitation: step.groupId = value
                case .tag: step.tag = value
                case .audience: step.segmentId = value
                case .redEnvelope: step.envelopeId = value
                case .leadTask: (step.minutes, step.text) = (words.first.flatMap { Int($0) }, words.dropFirst().joined(separator: " "))
                case .webhook: step.label = value
                case .end: break
                }
                steps.append(step)
            }
            return Journeys.Draft(name: form["name"] ?? "", trigger: JourneyTrigger(kind: kind, value: trigger[1],
                                                                                       condition: kind == .date && !condition.isEmpty ? Language.canonicalPredicate(condition) : nil),
                                  steps: steps, reentry: form["reentry"] == "on",
                                  holdoutPercent: holdout, quietHours: quiet)
        }
    }

    struct JourneysContent {
        struct Row { var name: String; var href: String; var state: String; var version: Int; var trigger: String; var treated: Int; var holdout: Int; var verdict: String }
        var notice: Notice?
        var rows: [Row]
        var hasRows: Bool
        var form: JourneyForm?
        var help: String
        var control: Int
        /// Where an owner or admin changes the global control group.
        var controlAction: String?
        var csrf: String
    }

    @Sendable func journeysPage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        guard let account = scope.account else { return try await chooseAccount(t(.journeys), nav: .journeys, request, context, scope: scope, path: "/console/journeys") }
        let journeys = Journeys(flywheel)
        let segments = try await store.segments(of: account)
        let names = Dictionary(segments.map { ($0.id, $0.name) }) { a, _ in a }
        var rows: [JourneysContent.Row] = []
        for j in try await journeys.list(accountId: account.id, reachable: context.tenantIds, by: caller) {
            let report = try await journeys.report(of: j)
            rows.append(.init(name: j.name, href: "/console/journeys/\(Self.pathComponent(j.id))?account=\(account.id)", state: t.journeyState(j.state), version: j.version,
                              trigger: t.trigger(j.trigger) { names[$0] ?? $0 }, treated: report.arms[.treated]?.fans ?? 0, holdout: report.arms[.holdout]?.fans ?? 0,
                              verdict: Self.verdict(report.conversion, t, percent: true)))
        }
        let form = context.allows(.createJourney)
            ? JourneyForm(action: "/console/journeys?account=\(account.id)", csrf: context.session?.csrf ?? "", journey: nil, segments: segments, t) : nil
        let control = try await journeys.controlPercent(tenantId: account.tenantId, reachable: context.tenantIds, by: caller).percent
        let content = JourneysContent(notice: Self.errorNotice(request), rows: rows, hasRows: !rows.isEmpty, form: form, help: t(.stepsHelp), control: control,
                                      controlAction: context.allows(.changeExperimentSettings) ? "/console/experiment-settings?account=\(account.id)" : nil,
                                      csrf: context.session?.csrf ?? "")
        return try await page("journeys", content,
                              title: t(.journeys), nav: .journeys, request, context, scope: scope, path: "/console/journeys")
    }

    @Sendable func newJourney(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        var made: Journey?
        let refused = try await submit("journeys", account) {
            made = try await Journeys(flywheel).create(try JourneyForm.draft(context.form), accountId: account.id, reachable: context.tenantIds, by: caller)
        }
        guard let made else { return refused }
        return Response(status: .seeOther, headers: [.location: "/console/journeys/\(Self.pathComponent(made.id))?account=\(account.id)"])
    }

    struct JourneyContent {
        struct ArmRow { var arm: String; var fans: Int; var converted: Int; var conversion: String; var gmvPerFan: String; var retention: String }
        struct StepRow { var step: Int; var kind: String; var outcome: String; var fans: Int }
        struct Verdict { var measure: String; var text: String; var significant: Bool }
        var notice: Notice?
        var name: String
        var cards: [Card]
        var flow: ChartView
        var launch: String?
        var pause: String?
        var csrf: String
        var arms: [ArmRow]
        var uplift: ChartView
        var verdicts: [Verdict]
        var method: String
        var steps: [StepRow]
        var hasSteps: Bool
        var form: JourneyForm?
        var help: String
    }

    @Sendable func journeyPage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let caller = try context.caller()
        let scope = try await scope(request, context)
        let journeys = Journeys(flywheel)
        let detail = try await journeys.detail(try context.parameters.require("journeyId"), reachable: scope.accounts.map(\.tenantId), by: caller)
        let j = detail.journey
        guard let account = scope.all.first(where: { $0.id == j.accountId }) else { throw APIError.notFound("journey \(j.id)") }
        let report = try await journeys.report(of: j)
        let segments = try await store.segments(of: account)
        let names = Dictionary(segments.map { ($0.id, $0.name) }) { a, _ in a }
        let base = "/console/journeys/\(Self.pathComponent(j.id))"
        let p = detail.progress
        let cards = [Card(label: t(.state), value: t.journeyState(j.state)), Card(label: t(.versionLabel), value: "\(j.version)"),
                     Card(label: t(.triggerLabel), value: t.trigger(j.trigger) { names[$0] ?? $0 }),
                     Card(label: t(.treatedArm), value: "\(p.entered(.treated))"), Card(label: t(.holdoutArm), value: "\(p.entered(.holdout)) (\(j.holdoutPercent)%)"),
                     Card(label: t(.controlArm), value: "\(p.entered(.control)) (\(j.controlPercent)%)"),
                     Card(label: t(.onTheWay), value: "\(p.runs[.treated]?[.waiting] ?? 0)"), Card(label: t(.finishedLabel), value: "\(p.runs[.treated]?[.done] ?? 0)"),
                     Card(label: t(.quietHoursLabel), value: j.quietHours?.text ?? t(.noQuietHours))]
        let arms = ExperimentArm.allCases.map { arm -> JourneyContent.ArmRow in
            let a = report.arms[arm] ?? ArmOutcome()
            return .init(arm: t.arm(arm.rawValue), fans: a.fans, converted: a.converted, conversion: Self.percent(a.conversion.mean),
                         gmvPerFan: Self.yuan(Int64(a.gmvPerFan.mean.rounded())), retention: Self.percent(a.retention.mean))
        }
        let measures: [(Phrase, Uplift, Double, String)] = [(.conversionLabel, report.conversion, 100, t.pick(" pts", " 个百分点")),
                                                            (.gmvPerFanLabel, report.gmvPerFan, 0.01, t.pick(" yuan", " 元")),
                                                            (.retentionLabel, report.retention, 100, t.pick(" pts", " 个百分点"))]
        let csrf = context.session?.csrf ?? ""
        let content = JourneyContent(
            notice: Self.errorNotice(request), name: j.name, cards: cards, flow: Charts.flow(j, t),
            launch: context.allows(.launchJourney) && j.state != .active ? "\(base)/launch?account=\(account.id)" : nil,
            pause: context.allows(.pauseJourney) && j.state == .active ? "\(base)/pause?account=\(account.id)" : nil, csrf: csrf, arms: arms,
            uplift: Charts.uplift(title: t(.upliftLabel), measures.map { (t($0.0), $0.1, $0.2, $0.3) }),
            verdicts: measures.map { .init(measure: t($0.0), text: Self.verdict($0.1, t, percent: $0.2 == 100), significant: $0.1.significant) },
            method: t(.methodLabel),
            steps: p.steps.map { .init(step: $0.step, kind: t.stepKind($0.kind), outcome: t.stepOutcome($0.outcome), fans: $0.fans) }, hasSteps: !p.steps.isEmpty,
            form: context.allows(.changeJourney) ? JourneyForm(action: "\(base)?account=\(account.id)", csrf: csrf, journey: j, segments: segments, t) : nil,
            help: t(.stepsHelp))
        return try await page("journey", content, title: j.name, nav: .journeys, request, context, scope: scope, path: "/console/journeys")
    }

    @Sendable func editJourney(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        try await onJourney(request, context) { id, caller in
            _ = try await Journeys(flywheel).revise(id, try JourneyForm.draft(context.form), version: context.form["version"].flatMap { Int($0) },
                                                    reachable: context.tenantIds, by: caller)
        }
    }

    @Sendable func launchJourney(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        try await onJourney(request, context) { id, caller in _ = try await Journeys(flywheel).launch(id, reachable: context.tenantIds, by: caller) }
    }

    @Sendable func pauseJourney(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        try await onJourney(request, context) { id, caller in _ = try await Journeys(flywheel).pause(id, reachable: context.tenantIds, by: caller) }
    }

    /// A form posted on a journey's page: does `act` with the journey's id, then shows the page
    /// again (with the error, when it failed).
    func onJourney(_ request: Request, _ context: FlywheelRequestContext, _ act: @Sendable (String, Principal) async throws -> Void) async throws -> Response {
        let caller = try context.caller()
        let account = try await formAccount(request, context)
        let id = try context.parameters.require("journeyId")
        return try await submit("journeys/\(Self.pathComponent(id))", account) { try await act(id, caller) }
    }

    @Sendable func changeControlGroup(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let account = try await formAccount(request, context)
        return try await submit("journeys", account) {
            guard let percent = Int(context.form["controlPercent"] ?? "") else { throw UseCaseError.invalid(field: "controlPercent", "must be a whole number, 0 to 20") }
            _ = try await Journeys(flywheel).setControlPercent(percent, tenantId: account.tenantId, reachable: context.tenantIds, by: try context.caller())
        }
    }

    static func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }

    /// "+8.2 pts (3.1 to 13.3), significant", or "not yet significant".
    static func verdict(_ u: Uplift, _ t: Language, percent: Bool) -> String {
        let scale = percent ? 100.0 : 0.01
        func number(_ x: Double) -> String { String(format: "%+.1f", x * scale) }
        guard u.low.isFinite, u.high.isFinite else { return t(.notYetSignificant) }
        return "\(number(u.difference)) (\(number(u.low)) \(t.pick("to", "至")) \(number(u.high)))\(percent ? t.pick(" pts", " 个百分点") : t.pick(" yuan", " 元")), "
            + (u.significant ? t(.significantLabel) : t(.notYetSignificant))
    }
}

extension Charts {
    /// The journey as boxes top to bottom, the trigger first and the end last; a step going on to
    /// the one below is joined straight down, a jump runs down the right side, a branch's
    /// "otherwise" (and a wait's timeout) down the left.
    static func flow(_ j: Journey, _ t: Language) -> ChartView {
        let row = 56.0, box = 40.0, left = 120.0, width = 360.0
        let n = j.steps.count
        var chart = ChartView(title: t(.flowLabel), summary: j.steps.enumerated().map { "\($0.offset + 1) \(t.stepKind($0.element.kind.rawValue))" }.joined(separator: ", "),
                              width: left * 2 + width, height: Double(n + 2) * row + 10)
        func y(_ i: Int) -> Double { Double(i) * row + 8 }
        func label(_ s: JourneyStep) -> String {
            let value = ConsoleRoutes.JourneyForm.value(s)
            return "\(t.stepKind(s.kind.rawValue))\(value.isEmpty ? "" : ": " + String(value.prefix(14)) + (value.count > 14 ? "…" : ""))"
        }
        let titles = [t(.startLabel) + " · " + t.trigger(j.trigger) { $0 }] + j.steps.enumerated().map { "\($0.offset + 1). " + label($0.element) } + [t(.endLabel)]
        for (i, title) in titles.enumerated() {
            let kind = i == 0 || i == n + 1 ? nil : j.steps[i - 1].kind
            let fill = kind == nil ? color(0) : kind == .branch ? color(2) : [.wait, .waitUntil, .waitForEvent].contains(kind) ? color(1) : color(4)
            chart.rects.append(.init(x: f(left), y: f(y(i)), width: f(width), height: f(box), rx: "6", fill: fill))
            chart.texts.append(.init(x: f(left + width / 2), y: f(y(i) + box / 2 + 4), anchor: "middle", kind: "value", text: title))
        }
        chart.polylines.append(.init(points: "\(f(left + width / 2)),\(f(y(0) + box)) \(f(left + width / 2)),\(f(y(1)))", stroke: "#475569"))
        for (i, s) in j.steps.enumerated() {
            let number = i + 1
            let next = s.kind == .end ? n + 1 : s.next ?? number + 1
            if next == number + 1 {
                chart.polylines.append(.init(points: "\(f(left + width / 2)),\(f(y(number) + box)) \(f(left + width / 2)),\(f(y(next)))", stroke: "#475569"))
            } else {
                let x = left + width + 16 + Double(i % 4) * 10
                chart.polylines.append(.init(points: "\(f(left + width)),\(f(y(number) + box / 2)) \(f(x)),\(f(y(number) + box / 2)) \(f(x)),\(f(y(next) + box / 2)) \(f(left + width)),\(f(y(next) + box / 2))",
                                             stroke: "#475569"))
            }
            if s.kind == .branch || s.kind == .waitForEvent {
                let other = s.otherwise ?? number + 1
                let x = left - 16 - Double(i % 4) * 10
                chart.polylines.append(.init(points: "\(f(left)),\(f(y(number) + box / 2)) \(f(x)),\(f(y(number) + box / 2)) \(f(x)),\(f(y(other) + box / 2)) \(f(left)),\(f(y(other) + box / 2))",
                                             stroke: "#e11d48", dash: "4 3"))
                chart.texts.append(.init(x: f(x - 4), y: f(y(number) + box / 2 - 4), anchor: "end", kind: "tick", text: t(.otherwiseLabel)))
            }
        }
        return chart
    }

    /// Each measure's difference as a dot on its own scale, its 95 % interval as a bar, and zero
    /// marked: an interval that crosses zero reads as "not yet significant" at a glance.
    static func uplift(title: String, _ measures: [(label: String, uplift: Uplift, scale: Double, unit: String)]) -> ChartView {
        let width = 420.0, left = 150.0, row = 46.0
        var chart = ChartView(title: title, summary: measures.map { m in
            "\(m.label): \(f(m.uplift.difference * m.scale))\(m.unit) (\(m.uplift.low.isFinite ? f(m.uplift.low * m.scale) : "–") … \(m.uplift.high.isFinite ? f(m.uplift.high * m.scale) : "–"))"
        }.joined(separator: "; "), width: left + width + 90, height: Double(measures.count) * row + 20)
        for (i, m) in measures.enumerated() {
            let u = m.uplift
            let y = Double(i) * row + 20
            chart.texts.append(.init(x: f(left - 10), y: f(y + 4), anchor: "end", kind: "label", text: m.label))
            guard u.low.isFinite, u.high.isFinite else {
                chart.texts.append(.init(x: f(left + width / 2), y: f(y + 4), anchor: "middle", kind: "tick", text: "—"))
                continue
            }
            // Zero in the middle; the scale reaches the farthest end of the interval.
            let reach = max(abs(u.low), abs(u.high), abs(u.difference), 1e-9) * 1.1
            func x(_ v: Double) -> Double { left + width / 2 + v / reach * width / 2 }
            chart.axes.append(.init(x1: f(x(0)), y1: f(y - 14), x2: f(x(0)), y2: f(y + 14)))
            chart.rects.append(.init(x: f(x(u.low)), y: f(y - 4), width: f(max(2, x(u.high) - x(u.low))), height: "8", rx: "4", fill: u.significant ? color(4) : color(0)))
            chart.rects.append(.init(x: f(x(u.difference) - 5), y: f(y - 8), width: "10", height: "16", rx: "5", fill: u.significant ? color(3) : "#475569"))
            chart.texts.append(.init(x: f(left + width + 6), y: f(y + 4), anchor: "start", kind: "value", text: "\(f(u.difference * m.scale))\(m.unit)"))
        }
        return chart
    }
}
