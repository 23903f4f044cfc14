import FlywheelDomain
import FlywheelEngine
import FlywheelStore

/// The tags context: defining tags, putting them on and off fans, and notes about a fan.
public struct Tags: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    public func define(name: String, group: String?, in tenantId: String, by caller: Principal) async throws -> TagDefinition {
        try caller.authorize(.createTag)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard SetField.isValidName(name) else { throw UseCaseError.invalid(field: "name", "must be 1 to 50 characters without ',' or '='") }
        let tag = TagDefinition(name: name, group: try Validate.name(group ?? "default", field: "group"), createdAt: env.now())
        do {
            try await env.store.createTag(tag, tenantId: tenantId, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "tag.create",
                                                                                target: tag.name, detail: tag.group))
        } catch StoreError.conflict {
            throw UseCaseError.conflict(code: "conflict", "tag '\(name)' exists already")
        }
        return tag
    }

    /// Takes the tag off every fan that has it (events in their logs), then forgets the tag.
    public func delete(_ name: String, in tenantId: String, by caller: Principal) async throws {
        try caller.authorize(.deleteTag)
        guard try await env.store.tags(tenantId: tenantId).contains(where: { $0.name == name }) else { throw UseCaseError.notFound("tag \(name)") }
        try await flywheel.tagging.deleteTag(name, tenantId: tenantId, actor: caller.actor)
    }

    /// Tags on and off for fans named by open_id (up to 10,000), a segment, or every fan matching a
    /// predicate; the last two are bulk work, for whoever may do it.
    public func tag(_ target: Tagging.Target, of account: Account, add: [String], remove: [String], by caller: Principal) async throws -> (fans: Int, events: Int) {
        switch target {
        case .fans(let ids):
            try caller.authorize(.tagFans)
            guard (1...10_000).contains(ids.count) else { throw UseCaseError.invalid(field: "openIds", "must list 1 to 10,000 fans; tag more through a segment") }
        case .segment(let id):
            try caller.authorize(.tagFansInBulk)
            guard try await env.store.segment(id: id, of: account) != nil else { throw UseCaseError.invalid(field: "segmentId", "no segment '\(id)' in this account") }
        case .matching:
            try caller.authorize(.tagFansInBulk)
        }
        do {
            return try await flywheel.tagging.tag(target, of: account, add: add, remove: remove, actor: caller.actor)
        } catch Tagging.Failure.invalid(let field, let message) {
            throw UseCaseError.invalid(field: field, message)
        }
    }

    /// A note about a fan of the account, in its log.
    public func note(_ text: String, about openId: String, of account: Account, by caller: Principal) async throws -> FanEvent {
        try caller.authorize(.addNote)
        guard try await env.store.fan(of: account, openId: openId) != nil else { throw UseCaseError.notFound("fan \(openId)") }
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...2_000).contains(text.count) else { throw UseCaseError.invalid(field: "text", "must be 1 to 2,000 characters") }
        return try await flywheel.tagging.note(text, about: openId, of: account, actor: caller.actor)
    }
}
