import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// Journeys (trigger, waits, branches, actions; versioned; launched and paused) and the
/// experiments they carry: treated against holdout, with 95 % intervals.
extension APIRoutes {
    func addJourneys(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("journeys", use: listJourneys)
        group.post("journeys", use: createJourney)
        group.get("journeys/:journeyId", use: readJourney)
        group.put("journeys/:journeyId", use: changeJourney)
        group.post("journeys/:journeyId/launch", use: launchJourney)
        group.post("journeys/:journeyId/pause", use: pauseJourney)
        group.get("experiments", use: listExperiments)
        group.get("experiments/:experimentId", use: readExperiment)
        group.get("experiment-settings", use: readExperimentSettings)
        group.put("experiment-settings", use: changeExperimentSettings)
    }

    struct QuietHoursView: Codable, Sendable {
        var start: String
        var end: String
    }

    struct JourneyView: ResponseEncodable {
        var id: String
        var accountId: String
        var name: String
        var version: Int
        var state: String
        var trigger: JourneyTrigger
        var steps: [JourneyStep]
        var reentry: Bool
        var holdoutPercent: Int
        var controlPercent: Int
        var quietHours: QuietHoursView?
        var createdAt: String
        var launchedAt: String?
        var progress: ProgressView?

        init(_ j: Journey, progress: JourneyProgress? = nil) {
            id = j.id; accountId = j.accountId; name = j.name; version = j.version; state = j.state.rawValue; trigger = j.trigger; steps = j.steps
            reentry = j.reentry; holdoutPercent = j.holdoutPercent; controlPercent = j.controlPercent
            quietHours = j.quietHours.map { QuietHoursView(start: Journey.clock($0.start), end: Journey.clock($0.end)) }
            createdAt = Time.iso(j.createdAt); launchedAt = j.launchedAt.map(Time.iso); self.progress = progress.map(ProgressView.init)
        }
    }

    struct ProgressView: Encodable, Sendable {
        struct Step: Encodable, Sendable { var step: Int; var kind: String; var outcome: String; var fans: Int }
        /// Fans who entered, per arm.
        var entered: [String: Int]
        /// Treated fans still on the way, and at the end.
        var waiting: Int
        var done: Int
        var steps: [Step]

        init(_ p: JourneyProgress) {
            entered = Dictionary(uniqueKeysWithValues: ExperimentArm.allCases.map { ($0.rawValue, p.entered($0)) })
            waiting = p.runs[.treated]?[.waiting] ?? 0
            done = p.runs[.treated]?[.done] ?? 0
            steps = p.steps.map { Step(step: $0.step, kind: $0.kind, outcome: $0.outcome, fans: $0.fans) }
        }
    }

    /// A journey as sent: `quietHours` absent means 22:00–08:00, null means none.
    struct JourneyBody: Decodable {
        var accountId: String?
        var name: String
        var trigger: JourneyTrigger
        var steps: [JourneyStep]
        var reentry: Bool?
        var holdoutPercent: Int?
        var quietHours: QuietHoursView?
        var quietHoursGiven: Bool
        /// The version the edit was made on: refused when the journey moved on meanwhile.
        var version: Int?

        enum CodingKeys: String, CodingKey { case accountId, name, trigger, steps, reentry, holdoutPercent, quietHours, version }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            accountId = try c.decodeIfPresent(String.self, forKey: .accountId)
            name = try c.decode(String.self, forKey: .name)
            trigger = try c.decode(JourneyTrigger.self, forKey: .trigger)
            steps = try c.decode([JourneyStep].self, forKey: .steps)
            reentry = try c.decodeIfPresent(Bool.self, forKey: .reentry)
            holdoutPercent = try c.decodeIfPresent(Int.self, forKey: .holdoutPercent)
            version = try c.decodeIfPresent(Int.self, forKey: .version)
            quietHoursGiven = c.contains(.quietHours)
            quietHours = try c.decodeIfPresent(QuietHoursView.self, forKey: .quietHours)
        }

        func draft() throws -> Journeys.Draft {
            var quiet: QuietHours? = .standard
            if quietHoursGiven {
                quiet = try quietHours.map { view in
                    guard let start = Journey.minutes(ofClock: view.start), let end = Journey.minutes(ofClock: view.end) else {
                        throw APIError.invalid("quietHours", "start and end must be times of day, HH:MM")
                    }
                    return QuietHours(start: start, end: end)
                }
            }
            return Journeys.Draft(name: name, trigger: trigger, steps: steps, reentry: reentry ?? false, holdoutPercent: holdoutPercent, quietHours: quiet)
        }
    }

    @Sendable func listJourneys(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<JourneyView> {
        PageView(items: try await Journeys(flywheel).list(accountId: request.query("accountId"), reachable: context.tenantIds, by: try context.caller())
            .map { JourneyView($0) }, nextCursor: nil)
    }

    @Sendable func createJourney(_ request: Request, context: FlywheelRequestContext) async throws -> Created<JourneyView> {
        let body = try await request.decodeJSON(JourneyBody.self, context: context)
        guard let accountId = body.accountId else { throw APIError.invalid("accountId", "is required: the account whose fans take the journey") }
        return Created(body: JourneyView(try await Journeys(flywheel).create(try body.draft(), accountId: accountId, reachable: context.tenantIds, by: try context.caller())))
    }

    @Sendable func readJourney(_ request: Request, context: FlywheelRequestContext) async throws -> JourneyView {
        let detail = try await Journeys(flywheel).detail(try context.parameters.require("journeyId"), reachable: context.tenantIds, by: try context.caller())
        return JourneyView(detail.journey, progress: detail.progress)
    }

    @Sendable func changeJourney(_ request: Request, context: FlywheelRequestContext) async throws -> JourneyView {
        let body = try await request.decodeJSON(JourneyBody.self, context: context)
        return JourneyView(try await Journeys(flywheel).revise(try context.parameters.require("journeyId"), try body.draft(), version: body.version,
                                                               reachable: context.tenantIds, by: try context.caller()))
    }

    @Sendable func launchJourney(_ request: Request, context: FlywheelRequestContext) async throws -> JourneyView {
        JourneyView(try await Journeys(flywheel).launch(try context.parameters.require("journeyId"), reachable: context.tenantIds, by: try context.caller()))
    }

    @Sendable func pauseJourney(_ request: Request, context: FlywheelRequestContext) async throws -> JourneyView {
        JourneyView(try await Journeys(flywheel).pause(try context.parameters.require("journeyId"), reachable: context.tenantIds, by: try context.caller()))
    }

    struct ArmView: Encodable, Sendable {
        var fans: Int
        var converted: Int
        var conversion: Double
        /// Yuan.
        var gmvPerFan: Double
        var retention: Double

        init(_ a: ArmOutcome) {
            fans = a.fans; converted = a.converted; conversion = a.conversion.mean; gmvPerFan = a.gmvPerFan.mean / 100; retention = a.retention.mean
        }
    }

    struct UpliftView: Encodable, Sendable {
        var treated: Double
        var holdout: Double
        var difference: Double
        /// The 95 % interval; null until both arms have two fans.
        var low: Double?
        var high: Double?
        var significant: Bool

        init(_ u: Uplift, scale: Double = 1) {
            treated = u.treated / scale; holdout = u.holdout / scale; difference = u.difference / scale
            low = u.low.isFinite ? u.low / scale : nil; high = u.high.isFinite ? u.high / scale : nil; significant = u.significant
        }
    }

    struct ExperimentView: ResponseEncodable {
        var experimentId: String
        var journeyId: String
        var name: String
        var state: String
        var holdoutPercent: Int
        var windowDays: Int
        var arms: [String: ArmView]
        var conversion: UpliftView
        /// Yuan per fan.
        var gmvPerFan: UpliftView
        var retention: UpliftView
        var method: String
        var minimumPerArm: Int

        init(_ r: ExperimentReport, journey: Journey) {
            experimentId = r.experimentId; journeyId = journey.id; name = r.name; state = journey.state.rawValue; holdoutPercent = r.holdoutPercent
            windowDays = r.windowDays
            arms = Dictionary(uniqueKeysWithValues: ExperimentArm.allCases.map { ($0.rawValue, ArmView(r.arms[$0] ?? ArmOutcome())) })
            conversion = UpliftView(r.conversion); gmvPerFan = UpliftView(r.gmvPerFan, scale: 100); retention = UpliftView(r.retention)
            method = Self.method; minimumPerArm = Uplift.minimumPerArm
        }

        static let method = "treated minus holdout, each fan's first entry; orders paid and unfollows in the window after entry; "
            + "95% interval by Welch's t on per-fan values (unequal variances, Welch-Satterthwaite degrees of freedom); "
            + "significant when the interval leaves out 0 and each arm has at least \(Uplift.minimumPerArm) fans"
    }

    @Sendable func listExperiments(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<ExperimentView> {
        let caller = try context.caller()
        try caller.authorize(.listExperiments)
        let journeys = Journeys(flywheel)
        var items: [ExperimentView] = []
        for journey in try await journeys.list(accountId: request.query("accountId"), reachable: context.tenantIds, by: caller) where journey.launchedAt != nil {
            items.append(ExperimentView(try await journeys.report(of: journey), journey: journey))
        }
        return PageView(items: items, nextCursor: nil)
    }

    @Sendable func readExperiment(_ request: Request, context: FlywheelRequestContext) async throws -> ExperimentView {
        let (report, journey) = try await Journeys(flywheel).report(try context.parameters.require("experimentId"), reachable: context.tenantIds,
                                                                   by: try context.caller())
        return ExperimentView(report, journey: journey)
    }

    /// A post's or a campaign's experiment: the fans it reached against those held out.
    struct HoldoutExperimentView: Encodable, Sendable {
        var windowDays: Int
        var arms: [String: ArmView]
        var conversion: UpliftView
        var gmvPerFan: UpliftView
        var retention: UpliftView

        init(_ r: ExperimentReport) {
            windowDays = r.windowDays
            arms = Dictionary(uniqueKeysWithValues: [ExperimentArm.treated, .holdout].map { ($0.rawValue, ArmView(r.arms[$0] ?? ArmOutcome())) })
            conversion = UpliftView(r.conversion); gmvPerFan = UpliftView(r.gmvPerFan, scale: 100); retention = UpliftView(r.retention)
        }
    }

    struct ExperimentSettingsView: ResponseEncodable {
        var tenantId: String
        /// The global control group, in percent of the enterprise's fans.
        var controlPercent: Int
    }

    struct ExperimentSettingsBody: Decodable { var controlPercent: Int; var tenantId: String? }

    @Sendable func readExperimentSettings(_ request: Request, context: FlywheelRequestContext) async throws -> ExperimentSettingsView {
        let found = try await Journeys(flywheel).controlPercent(tenantId: request.query("tenantId"), reachable: context.tenantIds, by: try context.caller())
        return ExperimentSettingsView(tenantId: found.tenantId, controlPercent: found.percent)
    }

    @Sendable func changeExperimentSettings(_ request: Request, context: FlywheelRequestContext) async throws -> ExperimentSettingsView {
        let body = try await request.decodeJSON(ExperimentSettingsBody.self, context: context)
        let set = try await Journeys(flywheel).setControlPercent(body.controlPercent, tenantId: body.tenantId, reachable: context.tenantIds, by: try context.caller())
        return ExperimentSettingsView(tenantId: set.tenantId, controlPercent: set.percent)
    }
}
