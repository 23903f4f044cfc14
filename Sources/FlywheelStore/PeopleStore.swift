import FlywheelDomain

/// People across a matrix: each account's fans merged by open_id within their enterprise.
public protocol PeopleStore: Sendable {
    /// A page of the people with at least one account's fan matching `predicate` (evaluated in
    /// that account's calendar), merged over every account of `accounts` they relate to, in
    /// `sort` order; and how many people match in all.
    func people(in accounts: [Account], matching predicate: FanPredicate?, now: Int64, sort: PersonSort, descending: Bool,
                offset: Int, limit: Int) async throws -> (items: [PersonSummary], total: Int)
    /// Every account's fan of `accounts` belonging to a person that matches, up to `limit`.
    func fanKeys(in accounts: [Account], matching predicate: FanPredicate?, now: Int64, limit: Int) async throws -> [FanKey]
    /// The accounts' fans of the named people.
    func fanKeys(in accounts: [Account], of people: [PersonKey]) async throws -> [FanKey]
}

/// The people context, written once for both databases.
extension PeopleStore where Self: SQLStore {
    public func people(in accounts: [Account], matching predicate: FanPredicate?, now: Int64, sort: PersonSort, descending: Bool,
                       offset: Int, limit: Int) async throws -> (items: [PersonSummary], total: Int) {
        guard !accounts.isEmpty else { return ([], 0) }
        var query = PeopleQuery(dialect: runner.dialect)
        let hits = query.hits(accounts, predicate, now: now)
        let scope = query.scope(accounts, alias: "f")
        let order = "\(Self.orderKey(sort)) \(descending ? "DESC" : "ASC"), f.tenant_id, f.open_id"
        let page = SQLStatement("""
            WITH hit AS (\(hits))
            SELECT f.tenant_id, f.open_id, MAX(f.nickname) AS nickname, COUNT(*) AS accounts, MAX(f.tier) AS tier, MAX(f.level) AS level,
                   MAX(f.intimacy) AS intimacy, CAST(SUM(f.gmv) AS BIGINT) AS gmv, MIN(f.first_seen_at) AS first_seen,
                   MIN(f.first_seen_at || ':' || f.first_domain) AS origin, MAX(f.last_active_at) AS last_active
            FROM fans f JOIN hit ON hit.tenant_id = f.tenant_id AND hit.open_id = f.open_id
            WHERE \(scope)
            GROUP BY f.tenant_id, f.open_id ORDER BY \(order) LIMIT \(query.param(.int(Int64(limit)))) OFFSET \(query.param(.int(Int64(offset))))
            """, query.binds)
        let items = try await runner.query(page).map { row in
            let origin = try row.text("origin")
            return PersonSummary(tenantId: try row.text("tenant_id"), openId: try row.text("open_id"), nickname: row.optionalText("nickname"),
                                 accounts: Int(try row.int("accounts")), tier: Tier(rawValue: Int(try row.int("tier"))) ?? .potential,
                                 level: Int(try row.int("level")), intimacy: Int(try row.int("intimacy")), gmv: try row.int("gmv"),
                                 firstSeenAt: try row.int("first_seen"),
                                 firstDomain: SourceDomain(rawValue: String(origin.drop { $0 != ":" }.dropFirst())) ?? .public,
                                 lastActiveAt: try row.int("last_active"))
        }
        var counting = PeopleQuery(dialect: runner.dialect)
        let total = try await runner.query(SQLStatement("SELECT COUNT(*) AS n FROM (\(counting.hits(accounts, predicate, now: now))) hit", counting.binds))
        return (items, Int(try total.first?.int("n") ?? 0))
    }

    public func fanKeys(in accounts: [Account], matching predicate: FanPredicate?, now: Int64, limit: Int) async throws -> [FanKey] {
        guard !accounts.isEmpty else { return [] }
        var query = PeopleQuery(dialect: runner.dialect)
        let hits = query.hits(accounts, predicate, now: now)
        let scope = query.scope(accounts, alias: "f")
        return try await runner.query(SQLStatement("""
            WITH hit AS (\(hits))
            SELECT f.account_id, f.open_id FROM fans f JOIN hit ON hit.tenant_id = f.tenant_id AND hit.open_id = f.open_id
            WHERE \(scope) ORDER BY f.account_id, f.open_id LIMIT \(query.param(.int(Int64(limit))))
            """, query.binds)).map { FanKey(accountId: try $0.text("account_id"), openId: try $0.text("open_id")) }
    }

    public func fanKeys(in accounts: [Account], of people: [PersonKey]) async throws -> [FanKey] {
        var keys: [FanKey] = []
        for account in accounts {
            let ids = people.filter { $0.tenantId == account.tenantId }.map(\.openId)
            // In slices, to stay within every database's limit on parameters.
            for start in stride(from: 0, to: ids.count, by: 500) {
                let slice = ids[start..<min(start + 500, ids.count)]
                keys += try await runner.query(SQLStatement("""
                    SELECT open_id FROM fans WHERE tenant_id = ? AND account_id = ? AND open_id IN (\(slice.map { _ in "?" }.joined(separator: ", ")))
                    ORDER BY open_id
                    """, [.text(account.tenantId), .text(account.id)] + slice.map(Cell.text))).map { FanKey(accountId: account.id, openId: try $0.text("open_id")) }
            }
        }
        return keys
    }

    static func orderKey(_ sort: PersonSort) -> String {
        switch sort {
        case .name: "COALESCE(MAX(f.nickname), f.open_id)"
        case .tier: "MAX(f.tier)"
        case .level: "MAX(f.level)"
        case .intimacy: "MAX(f.intimacy)"
        case .gmv: "SUM(f.gmv)"
        case .source: "substr(MIN(f.first_seen_at || ':' || f.first_domain), 15)"
        case .arrived: "MIN(f.first_seen_at)"
        case .lastActive: "MAX(f.last_active_at)"
        case .accounts: "COUNT(*)"
        }
    }
}

/// The SQL of a people query, its placeholders numbered for the dialect as they are written.
struct PeopleQuery {
    let dialect: Schema.Dialect
    var binds: [Cell] = []

    init(dialect: Schema.Dialect) { self.dialect = dialect }

    mutating func param(_ cell: Cell) -> String {
        binds.append(cell)
        return dialect == .postgres ? "$\(binds.count)" : "?"
    }

    /// Which accounts' rows count: `alias.tenant_id`/`account_id` among the scope's.
    mutating func scope(_ accounts: [Account], alias: String) -> String {
        "(" + accounts.map { "(\(alias).tenant_id = \(param(.text($0.tenantId))) AND \(alias).account_id = \(param(.text($0.id))))" }
            .joined(separator: " OR ") + ")"
    }

    /// The people with at least one matching fan: `tenant_id, open_id`, once each.
    mutating func hits(_ accounts: [Account], _ predicate: FanPredicate?, now: Int64) -> String {
        let clauses = accounts.map { account -> String in
            let key = "tenant_id = \(param(.text(account.tenantId))) AND account_id = \(param(.text(account.id)))"
            guard let predicate else { return "(\(key))" }
            let compiled = PredicateSQL(predicate, calendar: account.calendar, now: now, dialect: dialect, firstParameter: binds.count + 1)
            binds += compiled.binds
            return "(\(key) AND \(compiled.condition))"
        }
        return "SELECT DISTINCT tenant_id, open_id FROM fans WHERE " + clauses.joined(separator: " OR ")
    }
}
