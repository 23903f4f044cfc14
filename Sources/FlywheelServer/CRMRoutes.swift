import FlywheelApp
import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation
import Hummingbird
import NIOCore

/// Tags, notes, static segments from CSV and lookalikes: the CRM and DMP side of the API.
extension APIRoutes {
    func addCRM(to group: RouterGroup<FlywheelRequestContext>) {
        group.get("tags", use: listTags)
        group.post("tags", use: createTag)
        group.delete("tags/:name", use: deleteTag)
        group.post("accounts/:accountId/fans/tags", use: tagFans)
        group.post("accounts/:accountId/fans/:openId/notes", use: addNote)
        group.post("accounts/:accountId/segments/import", use: importSegment)
        group.post("accounts/:accountId/segments/:segmentId/lookalike", use: lookalike)
    }

    // MARK: Tags

    @Sendable func listTags(_ request: Request, context: FlywheelRequestContext) async throws -> PageView<TagDefinitionView> {
        let caller = try context.authorize(.listTags)
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        return PageView(items: try await store.tags(tenantId: tenantId).map(TagDefinitionView.init), nextCursor: nil)
    }

    struct NewTag: Decodable { var name: String; var group: String?; var tenantId: String? }

    @Sendable func createTag(_ request: Request, context: FlywheelRequestContext) async throws -> Created<TagDefinitionView> {
        let caller = try context.caller()
        let body = try await request.decodeJSON(NewTag.self, context: context)
        let tenantId = try Validate.tenant(body.tenantId, caller: caller, reachable: context.tenantIds)
        return Created(body: TagDefinitionView(try await Tags(flywheel).define(name: body.name, group: body.group, in: tenantId, by: caller)))
    }

    /// Takes the tag off every fan that has it (events in their logs), then forgets the tag.
    @Sendable func deleteTag(_ request: Request, context: FlywheelRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.caller()
        let tenantId = try Validate.tenant(request.query("tenantId"), caller: caller, reachable: context.tenantIds)
        try await Tags(flywheel).delete(try context.parameters.require("name"), in: tenantId, by: caller)
        return .noContent
    }

    /// Exactly one of `openIds`, `segmentId`, `where` says which fans.
    struct TagRequest: Decodable {
        var add: [String]?
        var remove: [String]?
        var openIds: [String]?
        var segmentId: String?
        var `where`: FanPredicate?
    }

    struct TagResult: ResponseEncodable { var fans: Int; var events: Int }

    /// Tags on and off for one fan, a list, a segment or every fan matching a predicate. Each is an
    /// event in the fan's log; the answer (202) comes once they are stored, and the projector
    /// applies them within moments.
    @Sendable func tagFans(_ request: Request, context: FlywheelRequestContext) async throws -> Created<TagResult> {
        let caller = try context.caller()
        let account = try await account(context)
        let body = try await request.decodeJSON(TagRequest.self, context: context)
        let target: Tagging.Target
        switch (body.openIds, body.segmentId, body.where) {
        case (let ids?, nil, nil): target = .fans(ids)
        case (nil, let id?, nil): target = .segment(id)
        case (nil, nil, let predicate?): target = .matching(predicate)
        default: throw APIError.invalid("openIds", "give exactly one of openIds, segmentId and where")
        }
        let done = try await Tags(flywheel).tag(target, of: account, add: body.add ?? [], remove: body.remove ?? [], by: caller)
        return Created(body: TagResult(fans: done.fans, events: done.events), status: .accepted)
    }

    struct NewNote: Decodable { var text: String }

    @Sendable func addNote(_ request: Request, context: FlywheelRequestContext) async throws -> Created<TimelineEntry> {
        let caller = try context.caller()
        let account = try await account(context)
        let openId = try context.parameters.require("openId")
        let text = try await request.decodeJSON(NewNote.self, context: context).text
        return Created(body: TimelineEntry(event: try await Tags(flywheel).note(text, about: openId, of: account, by: caller)))
    }

    // MARK: Crowd packages

    struct ImportResult: ResponseEncodable {
        var segment: SegmentView
        /// Distinct open_ids read from the file.
        var rows: Int
        /// Of those, the ones that are not fans of this account (not in the segment).
        var unmatched: Int
    }

    /// A static segment from a CSV of open_ids (one per line, an `open_id` header optional; the
    /// first column counts), as ad platforms and other tools export them. `?name=` names it.
    @Sendable func importSegment(_ request: Request, context: FlywheelRequestContext) async throws -> Created<ImportResult> {
        // Checked before a large body is read; the use case checks again, as for every caller.
        let caller = try context.authorize(.importSegment)
        let account = try await account(context)
        let name = request.query("name") ?? ""
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maxImportBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the file is larger than \(Self.maxImportBytes >> 20) MiB; split it")
        }
        let (segment, rows) = try await Segments(flywheel).importStatic(name: name, csv: String(buffer: buffer), into: account, by: caller)
        return Created(body: ImportResult(segment: SegmentView(segment), rows: rows, unmatched: rows - segment.size))
    }

    static let maxImportBytes = 64 << 20

    struct LookalikeRequest: Decodable { var name: String; var size: Int }

    /// A static segment of the `size` non-members most like the seed segment (method in docs/predicates.md).
    @Sendable func lookalike(_ request: Request, context: FlywheelRequestContext) async throws -> Created<SegmentView> {
        let caller = try context.caller()
        let (account, seed) = try await segment(context)
        let body = try await request.decodeJSON(LookalikeRequest.self, context: context)
        return Created(body: SegmentView(try await Segments(flywheel).lookalike(of: seed, in: account, name: body.name, size: body.size, by: caller)))
    }
}

struct TagDefinitionView: ResponseEncodable {
    var name: String
    var group: String
    var createdAt: String

    init(_ t: TagDefinition) { name = t.name; group = t.group; createdAt = Time.iso(t.createdAt) }
}

/// One line of a fan's timeline: something the fan did, an operator did, or the system did.
struct TimelineEntry: ResponseEncodable {
    var at: String
    /// `fan`, `operator` (attributes.by names who) or `system`.
    var actor: String
    /// An event kind, or `tier_changed`, `segment_entered`, `segment_left`, `tag_added` by a rule.
    var kind: String
    /// What it was about: the tag, the segment, the tier move, the note's text, the event's ref.
    var detail: String?
    var event: EventView?

    init(at: Int64, actor: String, kind: String, detail: String?, event: EventView? = nil) {
        self.at = Time.iso(at); self.actor = actor; self.kind = kind; self.detail = detail; self.event = event
    }

    init(event: FanEvent, seq: Int64 = 0) {
        let e = event
        self.init(at: e.occurredAt, actor: e.kind.isOperatorAction || e.kind == .dmSent ? "operator" : "fan", kind: e.kind.rawValue,
                  detail: e.kind == .noteAdded ? e.attributes["text"] : e.ref, event: EventView(StoredEvent(seq: seq, event: e)))
    }

    init(_ item: Fans.TimelineItem) {
        switch item {
        case .event(let stored):
            self.init(event: stored.event, seq: stored.seq)
        case .tierChanged(let at, let from, let to, let cause):
            self.init(at: at, actor: "system", kind: "tier_changed", detail: "\(from?.name ?? "new") → \(to.name) (\(cause))")
        case .segment(let at, let entered, let name, let cause):
            self.init(at: at, actor: "system", kind: entered ? "segment_entered" : "segment_left", detail: "\(name) (\(cause))")
        case .action(let at, let action, let detail):
            self.init(at: at, actor: "system", kind: action, detail: "\(detail) (rule)")
        case .journey(let at, let name, let step, let kind, let outcome):
            self.init(at: at, actor: "system", kind: "journey_step", detail: "\(name) #\(step) \(kind): \(outcome)")
        }
    }
}
