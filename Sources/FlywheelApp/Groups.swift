import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// Fan groups: created on the platform through the outbox, with an entry threshold in the one
/// predicate language that decides applications, at most 10 admins, a greeting, the platform's
/// own syncing of lives and new works, group sends, and each group's numbers.
public struct Groups: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// A group's settings as a caller gives them; nil leaves a setting as it is (on a change).
    public struct Settings: Sendable {
        public var name: String?
        public var description: String?
        /// `.some(nil)` removes the threshold.
        public var threshold: String??
        public var welcome: String??
        public var admins: [String]?
        public var liveReminder: Bool?
        public var shareNewWorks: Bool?

        public init(name: String? = nil, description: String? = nil, threshold: String?? = nil, welcome: String?? = nil, admins: [String]? = nil,
                    liveReminder: Bool? = nil, shareNewWorks: Bool? = nil) {
            self.name = name
            self.description = description
            self.threshold = threshold
            self.welcome = welcome
            self.admins = admins
            self.liveReminder = liveReminder
            self.shareNewWorks = shareNewWorks
        }
    }

    public func list(of account: Account, by caller: Principal) async throws -> [FanGroup] {
        try caller.authorize(.listGroups)
        return try await env.store.groups(of: account)
    }

    public func read(_ id: String, of account: Account, days: Int, by caller: Principal) async throws -> (group: FanGroup, stats: GroupStats?) {
        try caller.authorize(.readGroup)
        guard (1...366).contains(days) else { throw UseCaseError.invalid(field: "days", "must be 1 to 366") }
        let group = try await existing(id, of: account)
        guard let platformId = group.platformGroupId else { return (group, nil) }
        let now = env.now()
        let today = account.calendar.day(ofMillis: now)
        return (group, try await env.store.groupStats(platformGroupId: platformId, of: account, days: (today - days + 1)...today, now: now))
    }

    func existing(_ id: String, of account: Account) async throws -> FanGroup {
        guard let group = try await env.store.group(id: id, of: account) else { throw UseCaseError.notFound("group \(id)") }
        return group
    }

    /// The settings applied to `group`, checked field by field.
    func applying(_ s: Settings, to group: FanGroup) throws -> FanGroup {
        var g = group
        if let name = s.name { g.name = try Validate.trimmed(name, field: "name", length: FanGroup.nameLength) }
        if let description = s.description {
            guard FanGroup.descriptionLength.contains(description.unicodeScalars.count) else {
                throw UseCaseError.invalid(field: "description", "must be at most \(FanGroup.descriptionLength.upperBound) characters")
            }
            g.description = description
        }
        if let threshold = s.threshold { g.threshold = try Validate.predicate(threshold, field: "threshold", example: "level >= 9") }
        if let welcome = s.welcome {
            if let raw = welcome, !raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                g.welcome = try Validate.trimmed(raw, field: "welcome", length: FanGroup.welcomeLength)
            } else {
                g.welcome = nil
            }
        }
        if let admins = s.admins {
            var seen: [String] = []
            for (i, admin) in admins.enumerated() {
                let id = try Validate.token(admin, field: "admins[\(i)]")
                if !seen.contains(id) { seen.append(id) }
            }
            guard seen.count <= FanGroup.maxAdmins else {
                throw UseCaseError.invalid(field: "admins", "a group has at most \(FanGroup.maxAdmins) admins; the \(ordinal(FanGroup.maxAdmins + 1)) (\(seen[FanGroup.maxAdmins])) is refused")
            }
            g.admins = seen
        }
        if let liveReminder = s.liveReminder { g.liveReminder = liveReminder }
        if let shareNewWorks = s.shareNewWorks { g.shareNewWorks = shareNewWorks }
        return g
    }

    func ordinal(_ n: Int) -> String { n == 11 ? "eleventh" : "\(n)th" }

    /// Creates the group: saved now, made on the platform by the outbox.
    public func create(_ settings: Settings, of account: Account, by caller: Principal) async throws -> FanGroup {
        try caller.authorize(.createGroup)
        guard settings.name != nil else { throw UseCaseError.invalid(field: "name", "must be 1 to \(FanGroup.nameLength.upperBound) characters") }
        let now = env.now()
        let blank = FanGroup(id: env.newId("grp"), accountId: account.id, name: "", description: "", threshold: nil, welcome: nil, admins: [],
                             liveReminder: true, shareNewWorks: true, createdAt: now)
        let group = try applying(settings, to: blank)
        let outbox = OutboxMessage(tenantId: account.tenantId, id: env.newId("out"), idempotencyKey: "group:\(group.id)", accountId: account.id, openId: "",
                                   replyTo: nil, replyBy: nil, content: .text(group.name), messageId: "", createdAt: now, action: .createGroup, target: group.id)
        try await env.store.createGroup(group, outbox: outbox, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "group.create",
                                                                                target: group.id, detail: group.name))
        return group
    }

    /// Changes the group's settings; a new greeting goes to the platform through the outbox.
    public func change(_ id: String, _ settings: Settings, of account: Account, by caller: Principal) async throws -> FanGroup {
        try caller.authorize(.changeGroup)
        let before = try await existing(id, of: account)
        var group = try applying(settings, to: before)
        guard group != before else { return group }
        var outbox: OutboxMessage?
        if group.welcome != before.welcome, let welcome = group.welcome, let platformId = group.platformGroupId {
            outbox = OutboxMessage(tenantId: account.tenantId, id: env.newId("out"), idempotencyKey: "greeting:\(id):\(before.version + 1)", accountId: account.id,
                                   openId: "", replyTo: nil, replyBy: nil, content: .text(welcome), messageId: "", createdAt: env.now(), action: .groupGreeting,
                                   target: platformId)
        }
        do {
            try await env.store.updateGroup(group, readVersion: before.version, outbox: outbox, tenantId: account.tenantId,
                                            audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "group.change", target: id))
        } catch StoreError.refused(.changedMeanwhile) {
            throw UseCaseError.conflict(code: "changed_meanwhile", "the group changed meanwhile; read it again and retry")
        }
        group.version += 1
        return group
    }

    /// A message to the whole group: it reaches every member, and counts on each member's touch budget.
    public func send(_ content: MessageContent, to id: String, of account: Account, key: String?, by caller: Principal) async throws -> OutboxMessage {
        try caller.authorize(.sendToGroup)
        let group = try await existing(id, of: account)
        guard group.state == .active, let platformId = group.platformGroupId else {
            throw UseCaseError.conflict(code: "group_not_ready", "the group is \(group.state.rawValue) on the platform; send once it is active")
        }
        if case .groupInvitation = content { throw UseCaseError.invalid(field: "type", "a group invitation cannot be sent to a group") }
        let now = env.now()
        let outbox = OutboxMessage(tenantId: account.tenantId, id: env.newId("out"), idempotencyKey: "group_send:\(id):\(key ?? env.newId("k"))",
                                   accountId: account.id, openId: "", replyTo: nil, replyBy: nil, content: content, messageId: "", createdAt: now,
                                   action: .groupMessage, target: platformId)
        let members = try await env.store.groupMembers(platformGroupId: platformId, of: account)
        try await env.store.sendToGroup(outbox, fanout: TouchFanout(touchpoint: .groupMessage, ref: outbox.idempotencyKey, at: now, reached: members, heldBack: []),
                                        audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "group.send", target: id))
        return outbox
    }

    public func applications(of id: String, in account: Account, limit: Int, by caller: Principal) async throws -> [JoinApplication] {
        try caller.authorize(.readGroup)
        let group = try await existing(id, of: account)
        guard let platformId = group.platformGroupId else { return [] }
        return try await env.store.applications(platformGroupId: platformId, of: account, limit: limit)
    }
}
