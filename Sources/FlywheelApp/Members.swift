import FlywheelEngine
import FlywheelStore

/// The access context's people and keys: a tenant's users with their roles and states, and the
/// API keys that act for them. Each use case checks the access table, then which users and roles
/// the caller may touch (`Access.mayManage`, `Access.mayGrant`), and writes in one transaction with
/// its audit entry; the store keeps every tenant with an active owner.
public struct Members: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }
    var store: any Store { flywheel.env.store }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    // MARK: Users

    /// A new user of the caller's tenant, or of `tenant` when it is one the caller manages.
    public func create(name: String, role: Role, tenant: String?, in tenantIds: [String], by caller: Principal) async throws -> User {
        try caller.authorize(.createUser)
        let name = try Validate.name(name, field: "name")
        guard Access.mayGrant(caller.role, role) else { throw UseCaseError.forbidden("only an owner can create another owner") }
        let tenantId = try Validate.tenant(tenant, caller: caller, reachable: tenantIds)
        do {
            return try await flywheel.tenancy.createUser(name: name, role: role, tenantId: tenantId, actor: caller.actor)
        } catch StoreError.conflict {
            throw UseCaseError.conflict(code: "conflict", "name: the tenant has a user of that name; choose another")
        }
    }

    /// The user `userId` of one of `tenantIds`, disabled or not.
    public func user(_ userId: String, in tenantIds: [String]) async throws -> User {
        guard let user = try await store.user(id: userId, tenantIds: tenantIds) else { throw UseCaseError.notFound("user \(userId)") }
        return user
    }

    /// Gives the user another role. An admin changes only users below admin, and nobody gives a
    /// role above their own; the tenant's last active owner keeps the role.
    public func changeRole(of userId: String, to role: Role, in tenantIds: [String], by caller: Principal) async throws -> User {
        try caller.authorize(.changeUser)
        var user = try await self.user(userId, in: tenantIds)
        try Self.check(caller, manages: user)
        guard Access.mayGrant(caller.role, role) else {
            throw UseCaseError.forbidden("nobody may give a role above their own; ask an owner")
        }
        guard role != user.role else { return user }
        let audit = env.audit(tenantId: user.tenantId, actor: caller.actor, action: "user.role", target: user.id,
                              detail: "\(user.role.rawValue) → \(role.rawValue)")
        try await write(user) { try await store.setRole(role, of: user, audit: audit) }
        user.role = role
        return user
    }

    /// Disables the user: its keys and sessions are refused from now on, on every server process.
    public func disable(_ userId: String, in tenantIds: [String], by caller: Principal) async throws -> User {
        try caller.authorize(.disableUser)
        var user = try await self.user(userId, in: tenantIds)
        try Self.check(caller, manages: user)
        guard !user.isDisabled else { return user }
        let at = env.now()
        let audit = env.audit(tenantId: user.tenantId, actor: caller.actor, action: "user.disable", target: user.id, detail: user.name)
        try await write(user) { try await store.setDisabled(at: at, of: user, audit: audit) }
        user.disabledAt = at
        return user
    }

    /// Enables a disabled user again; its keys work again (unless revoked or expired), its old
    /// sessions do not (they ended when it was disabled).
    public func enable(_ userId: String, in tenantIds: [String], by caller: Principal) async throws -> User {
        try caller.authorize(.enableUser)
        var user = try await self.user(userId, in: tenantIds)
        try Self.check(caller, manages: user)
        guard user.isDisabled else { return user }
        let audit = env.audit(tenantId: user.tenantId, actor: caller.actor, action: "user.enable", target: user.id, detail: user.name)
        try await write(user) { try await store.setDisabled(at: nil, of: user, audit: audit) }
        user.disabledAt = nil
        return user
    }

    /// Removes the user with its keys and sessions; the audit log keeps what it did.
    public func remove(_ userId: String, in tenantIds: [String], by caller: Principal) async throws {
        try caller.authorize(.removeUser)
        let user = try await self.user(userId, in: tenantIds)
        try Self.check(caller, manages: user)
        let audit = env.audit(tenantId: user.tenantId, actor: caller.actor, action: "user.remove", target: user.id,
                              detail: "\(user.name) (\(user.role.rawValue))")
        try await write(user) { try await store.removeUser(user, audit: audit) }
    }

    /// Refuses a caller whose role may not act on `user`'s (an admin on an owner or another admin).
    static func check(_ caller: Principal, manages user: User) throws(UseCaseError) {
        guard Access.mayManage(caller.role, user.role) else {
            throw .forbidden("an admin may change, disable or remove only operators, agents and analysts; ask an owner")
        }
    }

    /// Runs a store change to `user`, saying in the use case's words why the store refused it.
    func write(_ user: User, _ change: () async throws -> Void) async throws {
        do {
            try await change()
        } catch StoreError.refused(.lastOwner) {
            throw UseCaseError.conflict(code: "last_owner", "\(user.name) is the tenant's last active owner; make another user owner first")
        } catch StoreError.refused(.changedMeanwhile) {
            throw UseCaseError.conflict(code: "changed_meanwhile", "\(user.name) was changed by someone else meanwhile; look again and retry")
        } catch StoreError.notFound {
            throw UseCaseError.notFound("user \(user.id)")
        }
    }

    // MARK: Keys

    /// A key for the user: one's own, or another user's (owners only: whoever holds a key acts as
    /// its user). It stops working at `expiresAt` (ms) or after `expiresInDays` when one is given,
    /// and never expires otherwise.
    public func issueKey(for userId: String, expiresAt: Int64?, expiresInDays: Int?, in tenantIds: [String],
                         by caller: Principal) async throws -> Tenancy.IssuedKey {
        let user = try await self.user(userId, in: tenantIds)
        try caller.authorize(user.id == caller.userId && user.tenantId == caller.tenantId ? .createOwnKey : .createKeyForAnotherUser)
        guard !user.isDisabled else {
            throw UseCaseError.conflict(code: "user_disabled", "user \(user.id) is disabled; enable the user first")
        }
        let expiry = try Self.expiry(at: expiresAt, inDays: expiresInDays, now: env.now())
        return try await flywheel.tenancy.createKey(for: user, expiresAt: expiry, actor: caller.actor)
    }

    /// When a new key stops working: at `at`, or `inDays` days after `now`; nil (never) when
    /// neither is given.
    public static func expiry(at: Int64?, inDays: Int?, now: Int64) throws(UseCaseError) -> Int64? {
        switch (at, inDays) {
        case (nil, nil):
            return nil
        case (.some, .some):
            throw .invalid(field: "expiresAt", "send expiresAt or expiresInDays, not both")
        case (let at?, nil):
            guard at > now else { throw .invalid(field: "expiresAt", "must be in the future") }
            return at
        case (nil, let days?):
            guard (1...3_650).contains(days) else { throw .invalid(field: "expiresInDays", "must be a whole number of days from 1 to 3650") }
            return now + Int64(days) * 86_400_000
        }
    }

    /// The caller's own keys; for owners and admins every key of the tenant (the caller's, or
    /// `tenant` when it manages it), or one user's (`userId`). Revoked and expired keys included.
    public func keys(tenant: String?, userId: String?, in tenantIds: [String], by caller: Principal) async throws -> [APIKeyRecord] {
        try caller.authorize(.listOwnKeys)
        let tenantId = try Validate.tenant(tenant, caller: caller, reachable: tenantIds)
        if Access.allows(caller.role, .listTenantKeys) { return try await store.apiKeys(tenantId: tenantId, userId: userId) }
        // Everyone else sees their own keys and asks for no one else's.
        guard tenantId == caller.tenantId, userId == nil || userId == caller.userId else {
            throw AccessDenied(operation: .listTenantKeys, role: caller.role)
        }
        return try await store.apiKeys(tenantId: caller.tenantId, userId: caller.userId)
    }

    /// Revokes a key at once: the next request with it is refused, on every server process. One's
    /// own key anyone may revoke; another user's, an owner, or an admin for users below admin.
    public func revokeKey(_ keyId: String, in tenantIds: [String], by caller: Principal) async throws {
        try caller.authorize(.revokeOwnKey)
        guard let key = try await store.apiKey(id: keyId, tenantIds: tenantIds) else { throw UseCaseError.notFound("key \(keyId)") }
        if key.userId != caller.userId || key.tenantId != caller.tenantId {
            try caller.authorize(.revokeKeyOfAnotherUser)
            let holder = try await user(key.userId, in: [key.tenantId])
            try Self.check(caller, manages: holder)
        }
        let audit = env.audit(tenantId: key.tenantId, actor: caller.actor, action: "api_key.revoke", target: key.id, detail: "of \(key.userId)")
        do {
            try await store.revokeAPIKey(id: key.id, tenantId: key.tenantId, at: env.now(), audit: audit)
        } catch StoreError.notFound {
            // Its user was removed meanwhile, and the key with it.
            throw UseCaseError.notFound("key \(keyId)")
        }
    }
}
