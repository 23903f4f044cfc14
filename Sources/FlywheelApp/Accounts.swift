import FlywheelDomain
import FlywheelEngine
import FlywheelStore
import Foundation

/// Enterprises, platform apps, enterprise accounts and their rules.
public struct Accounts: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// An enterprise the caller's service provider manages, with its owner's first key.
    public func createEnterprise(name: String, by caller: Principal) async throws -> (tenant: Tenant, ownerKey: String) {
        try caller.authorize(.createEnterprise)
        guard let provider = try await env.store.tenant(id: caller.tenantId), provider.kind == .provider else {
            throw UseCaseError.forbidden("only a service provider tenant manages enterprises")
        }
        let made = try await flywheel.tenancy.createTenant(name: try Validate.name(name, field: "name"), kind: .enterprise, provider: provider, actor: caller.actor)
        return (made.tenant, made.key.token)
    }

    public func createApp(name: String, clientKey: String, clientSecret: String, in tenantId: String, by caller: Principal) async throws -> PlatformApp {
        try caller.authorize(.createApp)
        let app = PlatformApp(tenantId: tenantId, id: env.newId("app"), name: try Validate.name(name, field: "name"),
                              clientKey: try Validate.token(clientKey, field: "clientKey"), clientSecret: try Validate.token(clientSecret, field: "clientSecret"),
                              createdAt: env.now())
        do {
            try await env.store.createApp(app, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "app.create", target: app.id, detail: app.clientKey))
        } catch StoreError.conflict {
            throw UseCaseError.conflict(code: "conflict", "clientKey: another platform app has this client_key")
        }
        return app
    }

    public func createAccount(name: String, appId: String, openId: String, timeZone: String?, in tenantId: String, by caller: Principal) async throws -> Account {
        try caller.authorize(.createAccount)
        let zone = timeZone ?? AccountCalendar.defaultTimeZone
        guard TimeZone(identifier: zone) != nil else { throw UseCaseError.invalid(field: "timeZone", "'\(zone)' is not an IANA time zone such as Asia/Shanghai") }
        let account = Account(tenantId: tenantId, id: env.newId("acc"), name: try Validate.name(name, field: "name"), appId: appId,
                              openId: try Validate.token(openId, field: "openId"), timeZone: zone, createdAt: env.now())
        do {
            try await env.store.createAccount(account, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "account.create",
                                                                       target: account.id, detail: account.name))
        } catch StoreError.notFound {
            throw UseCaseError.invalid(field: "appId", "no platform app '\(appId)' in this tenant; create it with POST /v1/apps first")
        } catch StoreError.conflict {
            throw UseCaseError.conflict(code: "conflict", "openId: the app already has an account with this open_id")
        }
        // An enterprise on a playbook tracks every account's funnel, new ones included.
        if try await env.store.tenant(id: tenantId)?.industry != nil { try await Funnels(flywheel).track([account], by: caller) }
        return account
    }

    /// New rules for the account: checked whole (bounds, predicates, defined tags), then the
    /// projector re-evaluates every fan under them. Returns the new version.
    public func changeRules(_ rules: AccountRules, of account: Account, by caller: Principal) async throws -> Int {
        try caller.authorize(.changeRules)
        do { try rules.validate() } catch RuleError.invalid(let field, let message) { throw UseCaseError.invalid(field: field, message) }
        let tags = Set(try await env.store.tags(tenantId: account.tenantId).map(\.name))
        for (i, rule) in rules.tagRules.enumerated() where !tags.contains(rule.tag) {
            throw UseCaseError.invalid(field: "tagRules[\(i)].tag", "tag '\(rule.tag)' is not defined; create it with POST /v1/tags")
        }
        return try await env.store.setRules(rules, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor,
                                                                                action: "rules.update", target: account.id))
    }
}

/// Events synced into an account's log by the enterprise (the NDJSON import format).
public struct Events: Sendable {
    let flywheel: Flywheel

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// Checks every line first (one bad line refuses the whole body), then appends them in one
    /// transaction; lines already in the log are counted as duplicates.
    public func importLines(_ bytes: some Collection<UInt8>, into account: Account, by caller: Principal) async throws -> AppendOutcome {
        try caller.authorize(.importEvents)
        var events: [AccountEvent] = []
        do {
            for (number, line) in try EventImport.lines(bytes) {
                let parsed = try EventImport.parse(line, line: number)
                if let named = parsed.account, named != account.id {
                    throw UseCaseError.invalid(field: "account", "line \(number): '\(named)' is not this account; leave it out")
                }
                events.append(AccountEvent(tenantId: account.tenantId, accountId: account.id, event: parsed.event))
            }
        } catch let error as EventImport.LineError {
            throw UseCaseError.invalid(field: error.field, "line \(error.line): \(error.message)")
        }
        guard !events.isEmpty else { throw UseCaseError.invalid(field: "body", "no events; send one JSON object per line (docs/events.md)") }
        return try await flywheel.env.store.append(events) { _ in }
    }
}
