import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird

/// Segments of an enterprise's whole matrix: defined over any one account's fan or over the
/// merged person, counted in people, their members listed with the fan list's tools (sorting,
/// filters, bulk work, export) and portrayed.
extension ConsoleRoutes {
    struct MatrixSegmentsContent {
        var scope: String
        var predicate: String
        var merged: Bool
        var predicateError: String?
        var preview: Preview?
        var save: Save?
        var csrf: String
        var rows: [Row]
        var charts: [ChartView]
        var help: FieldHelp

        struct Preview { var count: Int }
        struct Save { var action: String; var csrf: String; var predicate: String; var merged: String }
        struct Row { var name: String; var predicate: String; var mode: String; var people: Int; var members: String; var portrait: String; var delete: String? }
    }

    /// The enterprise's segments, or, for a provider's every enterprise, a prompt to choose one.
    func matrixSegments(_ request: Request, _ context: FlywheelRequestContext, scope: Scope) async throws -> Response {
        let t = Self.language(request)
        let tenants = Set(scope.accounts.map(\.tenantId))
        guard tenants.count == 1, let tenantId = tenants.first, let selected = scope.selected else {
            return try await chooseAccount(t(.segments), nav: .segments, request, context, scope: scope, path: "/console/segments")
        }
        let text = request.query("predicate") ?? ""
        let merged = request.query("mode") == "merged"
        let canonical = Language.canonicalPredicate(text)
        let now = flywheel.env.now()
        var content = MatrixSegmentsContent(scope: selected, predicate: text, merged: merged, csrf: context.session?.csrf ?? "", rows: [], charts: [],
                                            help: FieldHelp(t))
        if !text.isEmpty {
            do {
                let predicate = try FanPredicate.parse(canonical)
                let condition: PeopleCondition = merged ? .merged(predicate) : .anyAccount(predicate)
                if context.allows(.createSegment), let csrf = context.session?.csrf {
                    content.save = MatrixSegmentsContent.Save(action: "/console/segments\(scope.query)", csrf: csrf, predicate: canonical, merged: merged ? "merged" : "any")
                }
                // What the matching people look like: best tier, accounts followed, where they first came from.
                let dimensions: [(Phrase, String)] = [(.tier, "tier"), (.accountsLabel, "accounts"), (.firstDomain, "first_domain")]
                for (title, dimension) in dimensions {
                    let counts = try await store.peopleCounts(in: scope.accounts, matching: [condition], now: now, by: dimension)
                    let items = counts.sorted { (Int($0.key) ?? 0, $0.key) < (Int($1.key) ?? 0, $1.key) }.map { key, n in
                        (dimension == "tier" ? Int(key).flatMap(Tier.init(rawValue:)).map(t.tier) ?? key
                         : dimension == "first_domain" ? SourceDomain(rawValue: key).map(t.domain) ?? key : key, n)
                    }
                    content.charts.append(Charts.bars(title: t(title), items))
                    // Everyone has one best tier: the people are that chart's sum.
                    if dimension == "tier" { content.preview = .init(count: counts.values.reduce(0, +)) }
                }
            } catch let error as FlywheelDomain.PredicateError {
                content.predicateError = t.predicateError(error)
            }
        }
        for segment in try await store.matrixSegments(tenantId: tenantId) {
            let people = try await store.peopleCounts(in: scope.accounts, matching: [segment.condition], now: now, by: "tier").values.reduce(0, +)
            let delete = context.allows(.deleteSegment) ? "/console/msegments/\(Self.pathComponent(segment.id))/delete\(scope.query)" : nil
            content.rows.append(.init(name: segment.name, predicate: segment.predicate.description, mode: t(segment.merged ? .mergedPerson : .anyAccount),
                                      people: people, members: "/console/fans?account=\(Self.queryValue(selected))&msegment=\(Self.queryValue(segment.id))",
                                      portrait: "/console/segments?account=\(Self.queryValue(selected))&mode=\(segment.merged ? "merged" : "any")&predicate=\(Self.queryValue(segment.predicate.description))",
                                      delete: delete))
        }
        return try await page("msegments", content, title: t(.segments), nav: .segments, request, context, scope: scope, path: "/console/segments")
    }

    func saveMatrixSegment(_ request: Request, _ context: FlywheelRequestContext, scope: Scope) async throws -> Response {
        let tenants = Set(scope.accounts.map(\.tenantId))
        guard tenants.count == 1, let tenantId = tenants.first else { throw APIError.invalid("account", "choose one enterprise to save a segment of its matrix") }
        let segment = try await Segments(flywheel).createMatrixSegment(name: context.form["name"] ?? "", predicate: context.form["predicate"] ?? "",
                                                                       merged: context.form["mode"] == "merged", tenantId: tenantId, by: try context.caller())
        return Response(status: .seeOther, headers: [.location: "/console/fans\(scope.query)&msegment=\(Self.queryValue(segment.id))"])
    }

    @Sendable func deleteMatrixSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Response {
        let scope = try await scope(request, context)
        let id = try context.parameters.require("segmentId")
        guard let segment = try await matrixSegment(id, scope: scope) else { throw APIError.notFound("segment \(id)") }
        try await Segments(flywheel).deleteMatrixSegment(segment.id, tenantId: segment.tenantId, by: try context.caller())
        return Response(status: .seeOther, headers: [.location: "/console/segments\(scope.query)"])
    }
}
