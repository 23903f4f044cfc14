import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// The bulk context: tag, untag, add to a static segment or export many fans at once. The
/// selection is fixed when the operator confirms it; the work runs in steps of `step` fans, each
/// recorded, so it shows its progress, survives a restart and never acts on a fan twice.
public struct BulkWork: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }
    var store: any Store { env.store }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// The most fans one job takes: beyond it, work through a segment with the API.
    public static let maxFans = 100_000
    /// Fans worked per step; a selection of at most this many is done before the page answers.
    public static let step = 500

    /// Starts a job on `fans` (the selected people's fans in `accounts`), all of one enterprise.
    public func start(_ operation: BulkJob.Operation, argument: String, people: Int, fans: [FanKey], in accounts: [Account],
                      by caller: Principal) async throws -> BulkJob {
        switch operation {
        case .tag, .untag: try caller.authorize(.tagFansInBulk)
        case .segment: try caller.authorize(.importSegment)
        case .export: try caller.authorize(.exportSegment)
        }
        guard !fans.isEmpty else { throw UseCaseError.invalid(field: "selection", "select at least one fan") }
        guard fans.count <= Self.maxFans else {
            throw UseCaseError.invalid(field: "selection", "\(fans.count) fans is more than \(Self.maxFans) in one job; narrow the filters or use a segment")
        }
        let byId = Dictionary(accounts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let tenants = Set(fans.compactMap { byId[$0.accountId]?.tenantId })
        guard fans.allSatisfy({ byId[$0.accountId] != nil }), tenants.count == 1, let tenantId = tenants.first else {
            throw UseCaseError.invalid(field: "selection", "choose the fans of one enterprise you can see")
        }
        var argument = argument.trimmingCharacters(in: .whitespaces)
        switch operation {
        case .tag, .untag:
            guard try await store.tags(tenantId: tenantId).contains(where: { $0.name == argument }) else {
                throw UseCaseError.invalid(field: "tag", argument.isEmpty ? "choose a tag" : "tag '\(argument)' is not defined")
            }
        case .segment: argument = try Validate.name(argument, field: "segment")
        case .export: argument = ""
        }
        let job = BulkJob(tenantId: tenantId, id: env.newId("job"), operation: operation, argument: argument, people: people, total: fans.count,
                          result: operation == .export ? "open_id,account,nickname,tier,level,intimacy,gmv_yuan,following,tags\n" : "",
                          createdBy: caller.actor, createdAt: env.now())
        try await store.createBulkJob(job, items: fans, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "bulk.\(operation.rawValue)",
                                                                          target: argument, detail: "\(people) people, \(fans.count) fans"))
        guard fans.count <= Self.step else { return job }
        return try await finish(job)
    }

    public func job(_ id: String, tenantIds: [String]) async throws -> BulkJob? {
        for tenantId in tenantIds { if let job = try await store.bulkJob(id, tenantId: tenantId) { return job } }
        return nil
    }

    /// Works every running job to its end (the runner's round, and what a restart resumes).
    public func runPending() async throws {
        for job in try await store.runningBulkJobs(limit: 20) { _ = try await finish(job) }
    }

    /// Steps `job` until it ends; a step that fails ends it as failed, saying why.
    func finish(_ job: BulkJob) async throws -> BulkJob {
        var job = job
        let accounts = Dictionary(try await store.accounts(tenantIds: [job.tenantId]).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        while job.state == .running {
            let items = try await store.bulkJobItems(job, from: job.done, limit: job.operation == .segment ? Self.maxFans : Self.step)
            var result = ""
            var state = BulkJob.State.running
            var worked = items.count
            do {
                switch job.operation {
                case .tag, .untag:
                    for (accountId, keys) in Dictionary(grouping: items.enumerated(), by: { $0.element.accountId }) {
                        guard let account = accounts[accountId] else { continue }
                        _ = try await flywheel.tagging.tag(keys.map { ($0.element.openId, "\(job.id)-\(job.done + $0.offset)") }, of: account,
                                                           tag: job.argument, add: job.operation == .tag, actor: job.createdBy)
                    }
                case .segment:
                    // One account's fans at a time, as one static segment named by the job, so a retried step finds it made.
                    let accountId = items.first?.accountId ?? ""
                    let members = items.prefix { $0.accountId == accountId }
                    worked = members.count
                    if let account = accounts[accountId] {
                        let id = "\(job.id)-\(accountId)"
                        if try await store.segment(id: id, of: account) == nil {
                            let now = env.now()
                            _ = try await store.createStaticSegment(
                                Segment(tenantId: account.tenantId, accountId: account.id, id: id, name: job.argument, predicate: nil, state: .building,
                                        createdAt: now, updatedAt: now),
                                of: account, members: members.map(\.openId), cause: "bulk:\(job.id)",
                                audit: env.audit(tenantId: account.tenantId, actor: job.createdBy, action: "segment.bulk", target: job.argument,
                                                 detail: "\(members.count) fans"))
                        }
                    }
                case .export:
                    for (accountId, keys) in Dictionary(grouping: items, by: \.accountId).sorted(by: { $0.key < $1.key }) {
                        guard let account = accounts[accountId] else { continue }
                        let fans = try await store.fans(of: account, openIds: keys.map(\.openId))
                        for key in keys { if let fan = fans[key.openId] { result += Self.csvLine(fan, account: account) } }
                    }
                }
            } catch {
                env.logger.error("bulk job step failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
                result = "\(error)"
                state = .failed
                worked = 0
            }
            let done = job.done + worked
            if state == .running, done >= job.total || items.isEmpty { state = .done }
            // Another server took the step: it carries on from there.
            guard try await store.advanceBulkJob(job, done: done, appending: result, state: state, at: env.now()) else { break }
            job.done = done
            job.state = state
            job.result += result
        }
        return job
    }

    /// One fan as a CSV line; text fields quoted, a leading formula character defused.
    static func csvLine(_ fan: FanState, account: Account) -> String {
        func field(_ text: String) -> String {
            let safe = text.first.map { "=+-@".contains($0) } == true ? "'" + text : text
            return "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return [field(fan.openId), field(account.name), field(fan.nickname ?? ""), fan.tier.name, "\(fan.level)", "\(fan.intimacy)",
                String(format: "%.2f", Double(fan.gmv) / 100), fan.following ? "true" : "false", field(fan.tags.sorted().joined(separator: ";"))]
            .joined(separator: ",") + "\n"
    }
}
