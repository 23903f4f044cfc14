import FlywheelDomain
import FlywheelStore

/// What operators do to fans by hand: tags on and off, notes. Each act is an event in the fan's
/// log (`tag_added`, `tag_removed`, `note_added`), so the projector applies it in order with
/// everything else, segments that use tags follow, and the fan's timeline shows who did what.
public struct Tagging: Sendable {
    let env: FlywheelEnvironment

    public init(_ env: FlywheelEnvironment) { self.env = env }

    /// Which fans an operation is for.
    public enum Target: Sendable {
        case fans([String])
        case segment(String)
        case matching(FanPredicate)
    }

    public enum Failure: Error, Equatable {
        /// `field` names the input, as the API reports it.
        case invalid(field: String, String)
    }

    /// Puts `add` on and takes `remove` off every targeted fan; returns the fans and the events
    /// appended (the projector applies them within moments).
    public func tag(_ target: Target, of account: Account, add: [String], remove: [String], actor: String) async throws -> (fans: Int, events: Int) {
        let defined = Set(try await env.store.tags(tenantId: account.tenantId).map(\.name))
        for (field, names) in [("add", add), ("remove", remove)] {
            for (i, name) in names.enumerated() where !defined.contains(name) {
                throw Failure.invalid(field: "\(field)[\(i)]", "tag '\(name)' is not defined; create it with POST /v1/tags")
            }
        }
        if let both = Set(add).intersection(remove).first { throw Failure.invalid(field: "remove", "'\(both)' is also in add") }
        guard !add.isEmpty || !remove.isEmpty else { throw Failure.invalid(field: "add", "name at least one tag to add or remove") }
        var fans = 0, events = 0
        try await forEachPage(of: target, in: account) { openIds in
            let now = env.now()
            let batch = openIds.flatMap { openId in
                add.map { operatorEvent(.tagAdded, openId, ref: $0, at: now, actor: actor) }
                    + remove.map { operatorEvent(.tagRemoved, openId, ref: $0, at: now, actor: actor) }
            }
            events += try await env.store.append(batch.map { AccountEvent(tenantId: account.tenantId, accountId: account.id, event: $0) }) { _ in }.inserted
            fans += openIds.count
        }
        return (fans, events)
    }

    /// Puts `tag` on (or takes it off) each named fan of `account`; each event's id is given, so
    /// work retried after a crash appends nothing twice. Returns the events appended.
    public func tag(_ fans: [(openId: String, eventId: String)], of account: Account, tag: String, add: Bool, actor: String) async throws -> Int {
        let now = env.now()
        let events = fans.map {
            AccountEvent(tenantId: account.tenantId, accountId: account.id,
                         event: FanEvent(id: $0.eventId, kind: add ? .tagAdded : .tagRemoved, openId: $0.openId, occurredAt: now, channel: .unknown,
                                         ref: tag, attributes: ["by": actor]))
        }
        return try await env.store.append(events) { _ in }.inserted
    }

    /// Appends a note about one fan, written by `actor`.
    public func note(_ text: String, about openId: String, of account: Account, actor: String) async throws -> FanEvent {
        let event = operatorEvent(.noteAdded, openId, ref: nil, at: env.now(), actor: actor, text: text)
        _ = try await env.store.append([AccountEvent(tenantId: account.tenantId, accountId: account.id, event: event)]) { _ in }
        return event
    }

    /// Removes a tag definition after taking the tag off every fan of every account of the tenant.
    public func deleteTag(_ name: String, tenantId: String, actor: String) async throws {
        for account in try await env.store.accounts(tenantIds: [tenantId]) {
            try await forEachPage(of: .matching(.has(field: "tags", value: name)), in: account) { openIds in
                let now = env.now()
                _ = try await env.store.append(openIds.map {
                    AccountEvent(tenantId: tenantId, accountId: account.id, event: operatorEvent(.tagRemoved, $0, ref: name, at: now, actor: actor))
                }) { _ in }
            }
        }
        try await env.store.deleteTag(name: name, tenantId: tenantId, audit: env.audit(tenantId: tenantId, actor: actor, action: "tag.delete", target: name))
    }

    func operatorEvent(_ kind: EventKind, _ openId: String, ref: String?, at: Int64, actor: String, text: String? = nil) -> FanEvent {
        var attributes = ["by": actor]
        if let text { attributes["text"] = text }
        return FanEvent(id: env.newId("op"), kind: kind, openId: openId, occurredAt: at, channel: .unknown, ref: ref, attributes: attributes)
    }

    /// The targeted open_ids a page at a time; listed ones must all be fans of the account.
    func forEachPage(of target: Target, in account: Account, _ body: ([String]) async throws -> Void) async throws {
        let pageSize = 2_000
        switch target {
        case .fans(let openIds):
            for start in stride(from: 0, to: openIds.count, by: pageSize) {
                let page = Array(openIds[start..<min(start + pageSize, openIds.count)])
                for (i, openId) in page.enumerated() where try await env.store.fan(of: account, openId: openId) == nil {
                    throw Failure.invalid(field: "openIds[\(start + i)]", "'\(openId)' is not a fan of this account")
                }
            }
            for start in stride(from: 0, to: openIds.count, by: pageSize) { try await body(Array(openIds[start..<min(start + pageSize, openIds.count)])) }
        case .segment(let id):
            var cursor: String?
            repeat {
                let page = try await env.store.segmentMembers(id: id, of: account, cursor: cursor, limit: pageSize)
                if !page.items.isEmpty { try await body(page.items) }
                cursor = page.nextCursor
            } while cursor != nil
        case .matching(let predicate):
            // Pages are cut by open_id, so fans the operation itself moves are neither skipped nor repeated.
            var cursor: String?
            let now = env.now()
            repeat {
                let page = try await env.store.fans(of: account, matching: predicate, now: now, cursor: cursor, limit: pageSize)
                if !page.items.isEmpty { try await body(page.items.map(\.openId)) }
                cursor = page.nextCursor
            } while cursor != nil
        }
    }
}
