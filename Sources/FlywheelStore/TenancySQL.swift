import FlywheelDomain
import Foundation

/// A store whose ordinary paths run through an `SQLRunner`: what SQLite and PostgreSQL share.
public protocol SQLStore: Sendable {
    var runner: any SQLRunner { get }
}

/// The tenancy context, written once for both databases.
extension TenancyStore where Self: SQLStore {
    public func createTenant(_ tenant: Tenant, owner: User, key: APIKeyRecord, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("INSERT INTO tenants (tenant_id, name, kind, provider_id, created_at) VALUES (?, ?, ?, ?, ?)",
                                  [.text(tenant.id), .text(tenant.name), .text(tenant.kind.rawValue), .nullable(tenant.providerId), .int(tenant.createdAt)])),
            .execute(TenancyRows.insert(owner)), .execute(TenancyRows.insert(key)), .execute(TenancyRows.record(audit)),
        ])
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await runner.query(SQLStatement("SELECT \(TenancyRows.tenantColumns) FROM tenants WHERE tenant_id = ?", [.text(id)]))
            .first.map(TenancyRows.tenant)
    }

    public func allTenants() async throws -> [Tenant] {
        try await runner.query(SQLStatement("SELECT \(TenancyRows.tenantColumns) FROM tenants ORDER BY created_at, tenant_id")).map(TenancyRows.tenant)
    }

    public func enterprises(managedBy providerId: String) async throws -> [Tenant] {
        try await runner.query(SQLStatement("SELECT \(TenancyRows.tenantColumns) FROM tenants WHERE provider_id = ? ORDER BY name", [.text(providerId)]))
            .map(TenancyRows.tenant)
    }

    public func createUser(_ user: User, audit: AuditEntry) async throws {
        try await runner.transaction([.execute(TenancyRows.insert(user)), .execute(TenancyRows.record(audit))])
    }

    public func users(tenantId: String) async throws -> [User] {
        try await runner.query(SQLStatement("SELECT \(TenancyRows.userColumns) FROM users WHERE tenant_id = ? ORDER BY created_at, user_id",
                                            [.text(tenantId)])).map(TenancyRows.user)
    }

    public func createAPIKey(_ key: APIKeyRecord, audit: AuditEntry) async throws {
        try await runner.transaction([.execute(TenancyRows.insert(key)), .execute(TenancyRows.record(audit))])
    }

    public func user(id: String, tenantIds: [String]) async throws -> User? {
        guard !tenantIds.isEmpty else { return nil }
        return try await runner.query(SQLStatement("""
            SELECT \(TenancyRows.userColumns) FROM users WHERE tenant_id IN (\(SQLStatement.placeholders(tenantIds.count))) AND user_id = ?
            """, tenantIds.map(Cell.text) + [.text(id)])).first.map(TenancyRows.user)
    }

    public func setRole(_ role: Role, of user: User, audit: AuditEntry) async throws {
        var steps = TenancyRows.unchanged(user)
        // Demoting an owner is checked against the other owners; promoting needs no check.
        if role != .owner { steps += TenancyRows.keepsAnActiveOwner(besides: user) }
        steps.append(.execute(SQLStatement("UPDATE users SET role = ? WHERE tenant_id = ? AND user_id = ?",
                                           [.text(role.rawValue), .text(user.tenantId), .text(user.id)])))
        steps.append(.execute(TenancyRows.record(audit)))
        try await runner.transaction(steps)
    }

    public func setDisabled(at: Int64?, of user: User, audit: AuditEntry) async throws {
        let who: [Cell] = [.text(user.tenantId), .text(user.id)]
        var steps = TenancyRows.unchanged(user)
        if let at {
            steps += TenancyRows.keepsAnActiveOwner(besides: user)
            steps.append(.execute(SQLStatement("UPDATE users SET disabled_at = ? WHERE tenant_id = ? AND user_id = ?", [.int(at)] + who)))
            // Its sessions end now; its keys stay, refused while it is disabled.
            steps.append(.execute(SQLStatement("DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?", who)))
        } else {
            steps.append(.execute(SQLStatement("UPDATE users SET disabled_at = NULL WHERE tenant_id = ? AND user_id = ?", who)))
        }
        steps.append(.execute(TenancyRows.record(audit)))
        try await runner.transaction(steps)
    }

    public func removeUser(_ user: User, audit: AuditEntry) async throws {
        let who: [Cell] = [.text(user.tenantId), .text(user.id)]
        var steps = TenancyRows.unchanged(user) + TenancyRows.keepsAnActiveOwner(besides: user)
        steps.append(.execute(SQLStatement("DELETE FROM api_keys WHERE tenant_id = ? AND user_id = ?", who)))
        steps.append(.execute(SQLStatement("DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?", who)))
        steps.append(.execute(SQLStatement("DELETE FROM users WHERE tenant_id = ? AND user_id = ?", who)))
        steps.append(.execute(TenancyRows.record(audit)))
        try await runner.transaction(steps)
    }

    public func apiKeys(tenantId: String, userId: String?) async throws -> [APIKeyRecord] {
        let statement = if let userId {
            SQLStatement("SELECT \(TenancyRows.keyColumns) FROM api_keys WHERE tenant_id = ? AND user_id = ? ORDER BY created_at, key_id",
                         [.text(tenantId), .text(userId)])
        } else {
            SQLStatement("SELECT \(TenancyRows.keyColumns) FROM api_keys WHERE tenant_id = ? ORDER BY created_at, key_id", [.text(tenantId)])
        }
        return try await runner.query(statement).map(TenancyRows.key)
    }

    public func apiKey(id: String, tenantIds: [String]) async throws -> APIKeyRecord? {
        guard !tenantIds.isEmpty else { return nil }
        return try await runner.query(SQLStatement("""
            SELECT \(TenancyRows.keyColumns) FROM api_keys WHERE tenant_id IN (\(SQLStatement.placeholders(tenantIds.count))) AND key_id = ?
            """, tenantIds.map(Cell.text) + [.text(id)])).first.map(TenancyRows.key)
    }

    public func revokeAPIKey(id: String, tenantId: String, at: Int64, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("SELECT 1 FROM api_keys WHERE tenant_id = ? AND key_id = ?", [.text(tenantId), .text(id)]),
                     orElse: .notFound("key \(id)")),
            .execute(SQLStatement("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND key_id = ?",
                                  [.int(at), .text(tenantId), .text(id)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func setPassword(hash: String, of user: User, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("UPDATE users SET password_hash = ? WHERE tenant_id = ? AND user_id = ?", [.text(hash), .text(user.tenantId), .text(user.id)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func signInCandidates(name: String, tenant: String?) async throws -> [(user: User, passwordHash: String?)] {
        let columns = TenancyRows.qualified(TenancyRows.userColumns, by: "u")
        // Two rows are enough to tell one candidate from several.
        let statement = if let tenant {
            SQLStatement("""
                SELECT \(columns), u.password_hash FROM users u JOIN tenants t ON t.tenant_id = u.tenant_id
                WHERE u.name = ? AND u.disabled_at IS NULL AND (u.tenant_id = ? OR t.name = ?) ORDER BY u.tenant_id LIMIT 2
                """, [.text(name), .text(tenant), .text(tenant)])
        } else {
            SQLStatement("SELECT \(columns), u.password_hash FROM users u WHERE u.name = ? AND u.disabled_at IS NULL ORDER BY u.tenant_id LIMIT 2",
                         [.text(name)])
        }
        return try await runner.query(statement).map { (try TenancyRows.user($0), $0.optionalText("password_hash")) }
    }

    public func createSession(_ session: SessionRecord, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("DELETE FROM sessions WHERE expires_at < ?", [.int(session.createdAt)])),
            .execute(SQLStatement("INSERT INTO sessions (tenant_id, session_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                                  [.text(session.tenantId), .text(session.tokenHash), .text(session.userId), .text(session.csrf),
                                   .int(session.createdAt), .int(session.expiresAt)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func session(tokenHash: String, now: Int64) async throws -> (session: SessionRecord, role: Role)? {
        guard let row = try await runner.query(SQLStatement("""
            SELECT s.session_hash, s.tenant_id, s.user_id, s.csrf, s.created_at, s.expires_at, u.role
            FROM sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.user_id = s.user_id
            WHERE s.session_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL
            """, [.text(tokenHash), .int(now)])).first, let role = Role(rawValue: try row.text("role")) else { return nil }
        return (SessionRecord(tokenHash: try row.text("session_hash"), tenantId: try row.text("tenant_id"), userId: try row.text("user_id"),
                              csrf: try row.text("csrf"), createdAt: try row.int("created_at"), expiresAt: try row.int("expires_at")), role)
    }

    public func deleteSession(tokenHash: String) async throws {
        try await runner.transaction([.execute(SQLStatement("DELETE FROM sessions WHERE session_hash = ?", [.text(tokenHash)]))])
    }

    public func apiKey(id: String) async throws -> (key: APIKeyRecord, role: Role)? {
        guard let row = try await runner.query(SQLStatement("""
            SELECT k.tenant_id, k.key_id, k.user_id, k.secret_hash, k.created_at, k.expires_at, k.revoked_at, u.role
            FROM api_keys k JOIN users u ON u.tenant_id = k.tenant_id AND u.user_id = k.user_id
            WHERE k.key_id = ? AND u.disabled_at IS NULL
            """, [.text(id)])).first, let role = Role(rawValue: try row.text("role")) else { return nil }
        return (try TenancyRows.key(row), role)
    }

    public func createApp(_ app: PlatformApp, audit: AuditEntry) async throws {
        try await runner.transaction([
            // The webhook finds the app by client_key alone: it must be free in every tenant, checked under
            // a lock on the key so two tenants cannot take it at once.
            .postgresOnly(SQLStatement("SELECT pg_advisory_xact_lock(hashtext(?))", [.text(app.clientKey)])),
            .forbid(SQLStatement("SELECT 1 FROM platform_apps WHERE client_key = ?", [.text(app.clientKey)]),
                    orElse: .conflict(field: "clientKey", "another platform app has this client_key")),
            .execute(SQLStatement("INSERT INTO platform_apps (tenant_id, app_id, name, client_key, client_secret, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                  [.text(app.tenantId), .text(app.id), .text(app.name), .text(app.clientKey), .text(app.clientSecret), .int(app.createdAt)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func apps(tenantId: String) async throws -> [PlatformApp] {
        try await runner.query(SQLStatement("SELECT \(TenancyRows.appColumns) FROM platform_apps WHERE tenant_id = ? ORDER BY created_at, app_id",
                                            [.text(tenantId)])).map(TenancyRows.app)
    }

    public func app(clientKey: String) async throws -> PlatformApp? {
        try await runner.query(SQLStatement("SELECT \(TenancyRows.appColumns) FROM platform_apps WHERE client_key = ?", [.text(clientKey)]))
            .first.map(TenancyRows.app)
    }

    public func createAccount(_ account: Account, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("SELECT 1 FROM platform_apps WHERE tenant_id = ? AND app_id = ?", [.text(account.tenantId), .text(account.appId)]),
                     orElse: .notFound("app_id")),
            .execute(SQLStatement("INSERT INTO accounts (tenant_id, account_id, name, app_id, open_id, time_zone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                  [.text(account.tenantId), .text(account.id), .text(account.name), .text(account.appId), .text(account.openId),
                                   .text(account.timeZone), .int(account.createdAt)])),
            .execute(SQLStatement("INSERT INTO projection_checkpoints (tenant_id, account_id, last_seq, rules_version) VALUES (?, ?, 0, 0)",
                                  [.text(account.tenantId), .text(account.id)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func accounts(tenantIds: [String]) async throws -> [Account] {
        guard !tenantIds.isEmpty else { return [] }
        return try await runner.query(SQLStatement("""
            SELECT \(TenancyRows.accountColumns) FROM accounts WHERE tenant_id IN (\(SQLStatement.placeholders(tenantIds.count)))
            ORDER BY tenant_id, created_at, account_id
            """, tenantIds.map(Cell.text))).map(TenancyRows.account)
    }

    public func account(id: String, tenantIds: [String]) async throws -> Account? {
        guard !tenantIds.isEmpty else { return nil }
        return try await runner.query(SQLStatement("""
            SELECT \(TenancyRows.accountColumns) FROM accounts WHERE tenant_id IN (\(SQLStatement.placeholders(tenantIds.count))) AND account_id = ?
            """, tenantIds.map(Cell.text) + [.text(id)])).first.map(TenancyRows.account)
    }

    public func account(tenantId: String, appId: String, openId: String) async throws -> Account? {
        try await runner.query(SQLStatement("SELECT \(TenancyRows.accountColumns) FROM accounts WHERE tenant_id = ? AND app_id = ? AND open_id = ?",
                                            [.text(tenantId), .text(appId), .text(openId)])).first.map(TenancyRows.account)
    }

    public func rules(of account: Account) async throws -> VersionedRules {
        try TenancyRows.rules(try await runner.query(TenancyRows.rulesQuery(of: account)), of: account)
    }

    public func setRules(_ rules: AccountRules, of account: Account, audit: AuditEntry) async throws -> Int {
        let json = String(decoding: try JSONEncoder().encode(rules), as: UTF8.self)
        let rows = try await runner.transaction([
            .execute(SQLStatement("UPDATE accounts SET rules = ?, rules_version = rules_version + 1 WHERE tenant_id = ? AND account_id = ?",
                                  [.text(json), .text(account.tenantId), .text(account.id)])),
            .execute(TenancyRows.record(audit)),
            .execute(SQLStatement("SELECT rules_version FROM accounts WHERE tenant_id = ? AND account_id = ?", [.text(account.tenantId), .text(account.id)])),
        ])
        return Int(try rows.first?.int("rules_version") ?? 0)
    }

    public func auditLog(tenantId: String, cursor: String?, limit: Int) async throws -> Page<AuditEntry> {
        let rows = try await runner.query(SQLStatement("""
            SELECT tenant_id, audit_id, at, actor, action, target, detail FROM audit_log WHERE tenant_id = ? AND audit_id < ?
            ORDER BY audit_id DESC LIMIT ?
            """, [.text(tenantId), .text(cursor ?? "\u{10FFFF}"), .int(Int64(limit + 1))]))
        let entries = try rows.prefix(limit).map {
            AuditEntry(id: try $0.text("audit_id"), tenantId: try $0.text("tenant_id"), at: try $0.int("at"), actor: try $0.text("actor"),
                       action: try $0.text("action"), target: try $0.text("target"), detail: try $0.text("detail"))
        }
        return Page(items: entries, nextCursor: rows.count > limit ? entries.last?.id : nil)
    }
}

/// The tenancy tables' rows: one way to write and read them, for both databases.
public enum TenancyRows {
    public static let tenantColumns = "tenant_id, name, kind, provider_id, created_at, industry"
    public static let userColumns = "tenant_id, user_id, name, role, created_at, disabled_at"
    public static let keyColumns = "tenant_id, key_id, user_id, secret_hash, created_at, expires_at, revoked_at"
    public static let appColumns = "tenant_id, app_id, name, client_key, client_secret, created_at"
    public static let accountColumns = "tenant_id, account_id, name, app_id, open_id, time_zone, created_at"

    /// A column list with each column named through a table's alias, for joins.
    public static func qualified(_ columns: String, by alias: String) -> String {
        columns.split(separator: ",").map { "\(alias)." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
    }

    /// The audit entry of a change, written in the change's transaction.
    public static func record(_ audit: AuditEntry) -> SQLStatement {
        SQLStatement("INSERT INTO audit_log (tenant_id, audit_id, at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [.text(audit.tenantId), .text(audit.id), .int(audit.at), .text(audit.actor), .text(audit.action), .text(audit.target), .text(audit.detail)])
    }

    static func insert(_ user: User) -> SQLStatement {
        SQLStatement("INSERT INTO users (tenant_id, user_id, name, role, created_at) VALUES (?, ?, ?, ?, ?)",
                     [.text(user.tenantId), .text(user.id), .text(user.name), .text(user.role.rawValue), .int(user.createdAt)])
    }

    static func insert(_ key: APIKeyRecord) -> SQLStatement {
        SQLStatement("INSERT INTO api_keys (tenant_id, key_id, user_id, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                     [.text(key.tenantId), .text(key.id), .text(key.userId), .text(key.secretHash), .int(key.createdAt), .nullable(key.expiresAt)])
    }

    /// The first steps of a change to `user`: on PostgreSQL, a lock on the tenant's users, so two
    /// changes cannot each leave the other as the last owner; then the user must still exist with
    /// the role and state it was judged by.
    static func unchanged(_ user: User) -> [SQLStep] {
        let disabled = user.isDisabled ? "disabled_at IS NOT NULL" : "disabled_at IS NULL"
        return [
            .postgresOnly(SQLStatement("SELECT pg_advisory_xact_lock(hashtext(?))", [.text("users:" + user.tenantId)])),
            .require(SQLStatement("SELECT 1 FROM users WHERE tenant_id = ? AND user_id = ?", [.text(user.tenantId), .text(user.id)]),
                     orElse: .notFound("user \(user.id)")),
            .require(SQLStatement("SELECT 1 FROM users WHERE tenant_id = ? AND user_id = ? AND role = ? AND \(disabled)",
                                  [.text(user.tenantId), .text(user.id), .text(user.role.rawValue)]),
                     orElse: .refused(.changedMeanwhile)),
        ]
    }

    /// Fails the change when `user` is an active owner and no other active owner is left.
    static func keepsAnActiveOwner(besides user: User) -> [SQLStep] {
        [.require(SQLStatement("""
            SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM users WHERE tenant_id = ? AND user_id = ? AND role = 'owner' AND disabled_at IS NULL)
            OR EXISTS (SELECT 1 FROM users WHERE tenant_id = ? AND role = 'owner' AND disabled_at IS NULL AND user_id <> ?)
            """, [.text(user.tenantId), .text(user.id), .text(user.tenantId), .text(user.id)]), orElse: .refused(.lastOwner))]
    }

    public static func key(_ row: SQLRow) throws -> APIKeyRecord {
        APIKeyRecord(tenantId: try row.text("tenant_id"), id: try row.text("key_id"), userId: try row.text("user_id"),
                     secretHash: try row.text("secret_hash"), createdAt: try row.int("created_at"),
                     expiresAt: row.optionalInt("expires_at"), revokedAt: row.optionalInt("revoked_at"))
    }

    public static func tenant(_ row: SQLRow) throws -> Tenant {
        Tenant(id: try row.text("tenant_id"), name: try row.text("name"), kind: Tenant.Kind(rawValue: try row.text("kind")) ?? .enterprise,
               providerId: row.optionalText("provider_id"), createdAt: try row.int("created_at"),
               industry: row.optionalText("industry").flatMap(Industry.init(rawValue:)))
    }

    public static func user(_ row: SQLRow) throws -> User {
        User(tenantId: try row.text("tenant_id"), id: try row.text("user_id"), name: try row.text("name"),
             role: Role(rawValue: try row.text("role")) ?? .analyst, createdAt: try row.int("created_at"),
             disabledAt: row.optionalInt("disabled_at"))
    }

    public static func app(_ row: SQLRow) throws -> PlatformApp {
        PlatformApp(tenantId: try row.text("tenant_id"), id: try row.text("app_id"), name: try row.text("name"), clientKey: try row.text("client_key"),
                    clientSecret: try row.text("client_secret"), createdAt: try row.int("created_at"))
    }

    public static func account(_ row: SQLRow) throws -> Account {
        Account(tenantId: try row.text("tenant_id"), id: try row.text("account_id"), name: try row.text("name"), appId: try row.text("app_id"),
                openId: try row.text("open_id"), timeZone: try row.text("time_zone"), createdAt: try row.int("created_at"))
    }

    public static func rulesQuery(of account: Account) -> SQLStatement {
        SQLStatement("""
            SELECT a.rules, a.rules_version, COALESCE(c.rules_version, 0) AS applied, t.industry FROM accounts a
            JOIN tenants t ON t.tenant_id = a.tenant_id
            LEFT JOIN projection_checkpoints c ON c.tenant_id = a.tenant_id AND c.account_id = a.account_id
            WHERE a.tenant_id = ? AND a.account_id = ?
            """, [.text(account.tenantId), .text(account.id)])
    }

    /// Rules as decoded from their stored text: the projector reads them at every batch. One text
    /// an account: room for thousands, so a server projecting many accounts in turn still hits.
    private static let decodedRules = TextMemo<AccountRules>(limit: 4096)

    /// An account's rules with their versions, from `rulesQuery`: its own, or else its enterprise's
    /// playbook's, or else the standard ones.
    public static func rules(_ rows: [SQLRow], of account: Account) throws -> VersionedRules {
        guard let row = rows.first else { throw StoreError.notFound("account \(account.id)") }
        let rules = try row.optionalText("rules").map { stored in
            try decodedRules.value(for: stored) { text in try JSONDecoder().decode(AccountRules.self, from: Data(text.utf8)) }
        }
            ?? row.optionalText("industry").flatMap(Industry.init(rawValue:))?.playbook.rules ?? .standard
        return VersionedRules(rules: rules, version: Int(try row.int("rules_version")), appliedVersion: Int(try row.int("applied")))
    }
}
