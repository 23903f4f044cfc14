import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// Bulk work from the fan list: what the selection comes to, a confirmation, then a job with its
/// progress and result. A selection that changed between the two (a rules change moved fans) is
/// shown again instead of acted on.
extension ConsoleRoutes {
    func addBulk(to console: RouterGroup<FlywheelRequestContext>) {
        console.post("bulk", use: bulkPreview)
        console.post("bulk/confirm", use: bulkConfirm)
        console.get("jobs", use: jobsPage)
        console.get("jobs/:jobId", use: jobPage)
        console.get("jobs/:jobId/download", use: jobDownload)
    }

    struct BulkContent {
        var notice: Notice?
        var summary: String
        /// The confirmation form; nil when there is nothing to confirm.
        var confirm: Confirm?
        var back: String

        struct Confirm { var action: String; var csrf: String; var fields: [FansContent.Hidden] }
    }

    /// What the bulk form asks for, read the same way on preview and on confirmation.
    struct BulkRequest {
        var operation: BulkJob.Operation?
        var argument: String
        var people: Int
        var fans: [FanKey]
    }

    func bulkRequest(_ context: FlywheelRequestContext, scope: Scope) async throws -> BulkRequest {
        let form = context.form
        let operation: BulkJob.Operation? = switch form["op"] {
        case "tag": .tag
        case "untag": .untag
        case "segment": .segment
        case "export": .export
        default: nil
        }
        // Named apart from the filters the form also carries (`tag`, `segment`), which choose the fans.
        let argument = (operation == .segment ? form["segmentName"] : form["tagName"]) ?? ""
        let fans: [FanKey]
        var people: Int
        if form["selection"] == "all" {
            let filter = FanFilter({ (form[$0] ?? "").trimmingCharacters(in: .whitespaces) }, tags: try await tagNames(scope))
            fans = try await store.fanKeys(in: scope.accounts, matching: try await conditions(filter, scope: scope), now: flywheel.env.now(), limit: BulkWork.maxFans + 1)
            let tenantOf = Dictionary(scope.accounts.map { ($0.id, $0.tenantId) }, uniquingKeysWith: { a, _ in a })
            people = Set(fans.map { PersonKey(tenantId: tenantOf[$0.accountId] ?? "", openId: $0.openId) }).count
        } else {
            // Rows of the page as `tenant/open_id`; rows of enterprises outside the scope are not taken.
            let tenants = Set(scope.accounts.map(\.tenantId))
            let keys = (context.formLists[form["selection"] == "page" ? "shown" : "person"] ?? []).compactMap { text -> PersonKey? in
                guard let slash = text.firstIndex(of: "/") else { return nil }
                let key = PersonKey(tenantId: String(text[..<slash]), openId: String(text[text.index(after: slash)...]))
                return tenants.contains(key.tenantId) ? key : nil
            }
            let unique = Array(Set(keys)).prefix(1_000)
            fans = try await store.fanKeys(in: scope.accounts, of: Array(unique))
            people = Set(fans.map(\.openId)).count
        }
        return BulkRequest(operation: operation, argument: argument, people: people, fans: fans)
    }

    /// The fields that carry the selection from the preview to the confirmation.
    static func carried(_ context: FlywheelRequestContext) -> [FansContent.Hidden] {
        let kept = Set(["selection", "person", "shown", "op", "tagName", "segmentName"] + FanFilter.names)
        return context.formLists.filter { kept.contains($0.key) }.sorted { $0.key < $1.key }.flatMap { name, values in
            values.map { FansContent.Hidden(name: name, value: $0) }
        }
    }

    /// The preview: `problem` stops the confirmation, `warning` is said above it.
    func bulkPage(_ request: Request, _ context: FlywheelRequestContext, scope: Scope, wanted: BulkRequest, problem: String?,
                  warning: String? = nil) async throws -> Response {
        let t = Self.language(request)
        let accounts = Set(wanted.fans.map(\.accountId)).count
        let what: String = switch wanted.operation {
        case .tag?: t.pick("put the tag “\(wanted.argument)” on", "打上标签“\(wanted.argument)”：")
        case .untag?: t.pick("take the tag “\(wanted.argument)” off", "去掉标签“\(wanted.argument)”：")
        case .segment?: t.pick("add to the static segment “\(wanted.argument)”", "加入静态人群“\(wanted.argument)”：")
        case .export?: t.pick("export as CSV", "导出为 CSV：")
        case nil: ""
        }
        let summary = t.pick("\(what.prefix(1).uppercased() + what.dropFirst()) \(wanted.people) people, \(wanted.fans.count) fans in \(accounts) accounts.",
                             "\(what)\(wanted.people) 人，共 \(wanted.fans.count) 个账号粉丝，分布在 \(accounts) 个账号。")
        var confirm: BulkContent.Confirm?
        if problem == nil, let csrf = context.session?.csrf {
            confirm = BulkContent.Confirm(action: "/console/bulk/confirm\(scope.query)", csrf: csrf,
                                          fields: Self.carried(context) + [FansContent.Hidden(name: "expected", value: "\(wanted.fans.count)")])
        }
        let back = "/console/fans?" + ((scope.selected.map { [("account", $0)] } ?? [])
            + FanFilter.names.compactMap { name in
                context.form[name].flatMap { $0.isEmpty ? nil : (name, $0) }
            }).map { "\($0.0)=\(Self.queryValue($0.1))" }.joined(separator: "&")
        let content = BulkContent(notice: (problem ?? warning).map { Notice(text: $0, isError: true) }, summary: summary, confirm: confirm, back: back)
        return try await page("bulk", content, title: t(.bulkAction), nav: .fans, request, context, scope: scope, path: "/console/fans")
    }

    /// What is wrong with the form before anything is asked of the use case, in the reader's words.
    func bulkProblem(_ wanted: BulkRequest, _ t: Language, scope: Scope, tags: [String]) -> String? {
        if Set(scope.accounts.map(\.tenantId)).count > 1 {
            return t.pick("Choose one enterprise in the header first: bulk work acts on one enterprise's fans.", "请先在顶部选择一个企业：批量操作只作用于一个企业的粉丝。")
        }
        guard let operation = wanted.operation else { return t.pick("Choose what to do with the selection.", "请选择要执行的批量操作。") }
        if wanted.fans.isEmpty { return t.pick("Nothing is selected: tick some rows, or choose this page or all that match.", "未选中任何粉丝：请勾选，或选择本页或全部符合条件的粉丝。") }
        if wanted.fans.count > BulkWork.maxFans {
            return t.pick("More than \(BulkWork.maxFans) fans: narrow the filters, or work through a segment.", "超过 \(BulkWork.maxFans) 个粉丝：请缩小筛选范围，或通过人群操作。")
        }
        switch operation {
        case .tag where !tags.contains(wanted.argument), .untag where !tags.contains(wanted.argument): return t.pick("Choose a tag.", "请选择标签。")
        case .segment where wanted.argument.trimmingCharacters(in: .whitespaces).isEmpty: return t.pick("Name the segment.", "请填写人群名称。")
        default: return nil
        }
    }

    @Sendable func bulkPreview(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let scope = try await scope(request, context)
        let wanted = try await bulkRequest(context, scope: scope)
        let problem = bulkProblem(wanted, Self.language(request), scope: scope, tags: try await tagNames(scope))
        return try await bulkPage(request, context, scope: scope, wanted: wanted, problem: problem)
    }

    @Sendable func bulkConfirm(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        let wanted = try await bulkRequest(context, scope: scope)
        if let problem = bulkProblem(wanted, t, scope: scope, tags: try await tagNames(scope)) {
            return try await bulkPage(request, context, scope: scope, wanted: wanted, problem: problem)
        }
        let expected = Int(context.form["expected"] ?? "") ?? -1
        guard expected == wanted.fans.count, let operation = wanted.operation else {
            let stale = t.pick("The selection changed since you looked (\(expected) fans then, \(wanted.fans.count) now): nothing was done. Check it and confirm again.",
                               "选择的粉丝在预览后发生了变化（预览时 \(expected) 个，现在 \(wanted.fans.count) 个）：未执行任何操作。请核对后再次确认。")
            return try await bulkPage(request, context, scope: scope, wanted: wanted, problem: nil, warning: stale)
        }
        do {
            let job = try await BulkWork(flywheel).start(operation, argument: wanted.argument, people: wanted.people, fans: wanted.fans,
                                                         in: scope.accounts, by: try context.caller())
            // Tags done in the request are applied now, so the list shows them when the operator goes back.
            if job.state == .done { await flywheel.projector.runOnce() }
            return Response(status: .seeOther, headers: [.location: "/console/jobs/\(Self.pathComponent(job.id))\(scope.query)"])
        } catch UseCaseError.invalid(_, let message) {
            return try await bulkPage(request, context, scope: scope, wanted: wanted, problem: message)
        }
    }

    struct JobContent {
        var jobs: [JobRow]
        /// One job's page: its progress, refreshed while it runs.
        var job: JobRow?
        var running: Bool

        struct JobRow { var href: String; var what: String; var people: Int; var total: Int; var done: Int; var percent: Int; var state: String
                        var started: String; var by: String; var download: String?; var failure: String?; var posts: [PostLink] = [] }
        /// Messaging a segment the job made: a subscription post to it, in its account.
        struct PostLink { var account: String; var href: String }
    }

    func jobRow(_ job: BulkJob, _ t: Language, scope: Scope) -> JobContent.JobRow {
        let what: String = switch job.operation {
        case .tag: "\(t(.addTag)) · \(job.argument)"
        case .untag: "\(t(.removeTag)) · \(job.argument)"
        case .segment: "\(t(.bulkSegment)) · \(job.argument)"
        case .export: t(.exportCSV)
        }
        let state: Phrase = switch job.state { case .running: .jobRunning; case .done: .jobDone; case .failed: .jobFailed }
        let href = "/console/jobs/\(Self.pathComponent(job.id))\(scope.query)"
        return JobContent.JobRow(href: href, what: what, people: job.people, total: job.total, done: job.done, percent: job.percent, state: t(state),
                                 started: Self.minute(job.createdAt), by: job.createdBy,
                                 download: job.operation == .export && job.state == .done
                                     ? "/console/jobs/\(Self.pathComponent(job.id))/download\(scope.query)" : nil,
                                 failure: job.state == .failed ? job.result : nil)
    }

    @Sendable func jobsPage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        var jobs: [BulkJob] = []
        for tenantId in Set(scope.accounts.map(\.tenantId)) { jobs += try await store.bulkJobs(tenantId: tenantId, limit: 50) }
        let rows = jobs.sorted { $0.createdAt > $1.createdAt }.prefix(50).map { jobRow($0, t, scope: scope) }
        return try await page("jobs", JobContent(jobs: Array(rows), job: nil, running: false), title: t(.jobsLabel), nav: .fans, request, context,
                              scope: scope, path: "/console/jobs")
    }

    @Sendable func jobPage(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let t = Self.language(request)
        let scope = try await scope(request, context)
        guard let job = try await BulkWork(flywheel).job(try context.parameters.require("jobId"), tenantIds: context.tenantIds) else {
            throw APIError.notFound("job")
        }
        var row = jobRow(job, t, scope: scope)
        if job.operation == .segment, job.state == .done {
            // The platform reaches many fans through subscription posts: one per account, to the segment made there.
            for account in try await store.accounts(tenantIds: [job.tenantId]).sorted(by: { $0.name < $1.name }) {
                let id = "\(job.id)-\(account.id)"
                if try await store.segment(id: id, of: account) != nil {
                    row.posts.append(.init(account: account.name, href: "/console/posts?account=\(account.id)&segment=\(Self.queryValue(id))"))
                }
            }
        }
        return try await page("jobs", JobContent(jobs: [], job: row, running: job.state == .running), title: t(.jobsLabel),
                              nav: .fans, request, context, scope: scope, path: "/console/jobs")
    }

    @Sendable func jobDownload(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        guard let job = try await BulkWork(flywheel).job(try context.parameters.require("jobId"), tenantIds: context.tenantIds),
              job.operation == .export, job.state == .done else { throw APIError.notFound("export") }
        try context.caller().authorize(.exportSegment)
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(job.id).csv\""],
                        body: .init(byteBuffer: ByteBuffer(string: job.result)))
    }
}
