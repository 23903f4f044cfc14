import FlywheelDomain

/// People across a matrix: each account's fans merged by open_id within their enterprise.
public protocol PeopleStore: Sendable {
    /// A page of the people meeting every condition, merged over every account of `accounts`
    /// they relate to, in `sort` order; and how many people match in all.
    func people(in accounts: [Account], matching conditions: [PeopleCondition], now: Int64, sort: PersonSort, descending: Bool,
                offset: Int, limit: Int) async throws -> (items: [PersonSummary], total: Int)
    /// How many people meeting the conditions have each value of `dimension` (`tier`, the best;
    /// `accounts`; `first_domain`, of the earliest account met).
    func peopleCounts(in accounts: [Account], matching conditions: [PeopleCondition], now: Int64, by dimension: String) async throws -> [String: Int]
    /// Every account's fan of `accounts` belonging to a person that meets the conditions, up to `limit`.
    func fanKeys(in accounts: [Account], matching conditions: [PeopleCondition], now: Int64, limit: Int) async throws -> [FanKey]
    /// The accounts' fans of the named people.
    func fanKeys(in accounts: [Account], of people: [PersonKey]) async throws -> [FanKey]

    func createMatrixSegment(_ segment: MatrixSegment, audit: AuditEntry) async throws
    func matrixSegments(tenantId: String) async throws -> [MatrixSegment]
    func deleteMatrixSegment(id: String, tenantId: String, audit: AuditEntry) async throws
}

/// The people context, written once for both databases.
extension PeopleStore where Self: SQLStore {
    public func people(in accounts: [Account], matching conditions: [PeopleCondition], now: Int64, sort: PersonSort, descending: Bool,
                       offset: Int, limit: Int) async throws -> (items: [PersonSummary], total: Int) {
        guard !accounts.isEmpty else { return ([], 0) }
        var query = PeopleQuery(dialect: runner.dialect)
        let people = query.people(accounts, conditions, now: now)
        let order = "\(Self.orderKey(sort)) \(descending ? "DESC" : "ASC"), tenant_id, open_id"
        let page = SQLStatement("""
            SELECT * FROM (\(people)) p ORDER BY \(order) LIMIT \(query.param(.int(Int64(limit)))) OFFSET \(query.param(.int(Int64(offset))))
            """, query.binds)
        let items = try await runner.query(page).map { row in
            PersonSummary(tenantId: try row.text("tenant_id"), openId: try row.text("open_id"), nickname: row.optionalText("nickname"),
                          accounts: Int(try row.int("accounts")), tier: Tier(rawValue: Int(try row.int("tier"))) ?? .potential,
                          level: Int(try row.int("level")), intimacy: Int(try row.int("intimacy")), gmv: try row.int("gmv"),
                          firstSeenAt: try row.int("first_seen"), firstDomain: SourceDomain(rawValue: try row.text("first_domain")) ?? .public,
                          lastActiveAt: try row.int("last_active"))
        }
        var counting = PeopleQuery(dialect: runner.dialect)
        let total = try await runner.query(SQLStatement("SELECT COUNT(*) AS n FROM (\(counting.hits(accounts, conditions, now: now))) hit", counting.binds))
        return (items, Int(try total.first?.int("n") ?? 0))
    }

    public func peopleCounts(in accounts: [Account], matching conditions: [PeopleCondition], now: Int64, by dimension: String) async throws -> [String: Int] {
        guard !accounts.isEmpty, ["tier", "accounts", "first_domain"].contains(dimension) else { return [:] }
        var query = PeopleQuery(dialect: runner.dialect)
        let people = query.people(accounts, conditions, now: now)
        let rows = try await runner.query(SQLStatement("""
            SELECT CAST(\(dimension) AS TEXT) AS value, COUNT(*) AS n FROM (\(people)) p GROUP BY \(dimension)
            """, query.binds))
        return Dictionary(try rows.map { (try $0.text("value"), Int(try $0.int("n"))) }, uniquingKeysWith: +)
    }

    public func fanKeys(in accounts: [Account], matching conditions: [PeopleCondition], now: Int64, limit: Int) async throws -> [FanKey] {
        guard !accounts.isEmpty else { return [] }
        var query = PeopleQuery(dialect: runner.dialect)
        let scope = query.scope(accounts, alias: "f")
        let chosen = conditions.isEmpty ? "" : " AND (f.tenant_id, f.open_id) IN (\(query.hits(accounts, conditions, now: now)))"
        return try await runner.query(SQLStatement("""
            SELECT f.account_id, f.open_id FROM fans f WHERE \(scope)\(chosen) ORDER BY f.account_id, f.open_id LIMIT \(query.param(.int(Int64(limit))))
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
                    SELECT open_id FROM fans WHERE tenant_id = ? AND account_id = ? AND open_id IN (\(SQLStatement.placeholders(slice.count)))
                    ORDER BY open_id
                    """, [.text(account.tenantId), .text(account.id)] + slice.map(Cell.text))).map { FanKey(accountId: account.id, openId: try $0.text("open_id")) }
            }
        }
        return keys
    }

    static func orderKey(_ sort: PersonSort) -> String {
        switch sort {
        case .name: "COALESCE(nickname, open_id)"
        case .tier: "tier"
        case .level: "level"
        case .intimacy: "intimacy"
        case .gmv: "gmv"
        case .source: "first_domain"
        case .arrived: "first_seen"
        case .lastActive: "last_active"
        case .accounts: "accounts"
        }
    }

    public func createMatrixSegment(_ segment: MatrixSegment, audit: AuditEntry) async throws {
        try await runner.transaction([
            .execute(SQLStatement("INSERT INTO matrix_segments (tenant_id, segment_id, name, predicate, merged, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                  [.text(segment.tenantId), .text(segment.id), .text(segment.name), .text(segment.predicate.description),
                                   .int(segment.merged ? 1 : 0), .int(segment.createdAt)])),
            .execute(TenancyRows.record(audit)),
        ])
    }

    public func matrixSegments(tenantId: String) async throws -> [MatrixSegment] {
        try await runner.query(SQLStatement("SELECT * FROM matrix_segments WHERE tenant_id = ? ORDER BY created_at, segment_id", [.text(tenantId)])).map { row in
            let text = try row.text("predicate")
            guard let predicate = try? FanPredicate.parse(text) else { throw StoreError.corrupt("matrix_segments.predicate '\(text.prefix(80))' does not parse") }
            return MatrixSegment(tenantId: try row.text("tenant_id"), id: try row.text("segment_id"), name: try row.text("name"), predicate: predicate,
                                 merged: try row.int("merged") == 1, createdAt: try row.int("created_at"))
        }
    }

    public func deleteMatrixSegment(id: String, tenantId: String, audit: AuditEntry) async throws {
        try await runner.transaction([
            .require(SQLStatement("DELETE FROM matrix_segments WHERE tenant_id = ? AND segment_id = ? RETURNING segment_id", [.text(tenantId), .text(id)]),
                     orElse: .notFound("segment \(id)")),
            .execute(TenancyRows.record(audit)),
        ])
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

    /// The people meeting every condition: `tenant_id, open_id`, once each.
    mutating func hits(_ accounts: [Account], _ conditions: [PeopleCondition], now: Int64) -> String {
        guard !conditions.isEmpty else { return "SELECT DISTINCT f.tenant_id, f.open_id FROM fans f WHERE \(scope(accounts, alias: "f"))" }
        return conditions.map { condition -> String in
            switch condition {
            case .anyAccount(let predicate):
                let clauses = accounts.map { account -> String in
                    let key = "tenant_id = \(param(.text(account.tenantId))) AND account_id = \(param(.text(account.id)))"
                    return "(\(key) AND \(compile(predicate, account, now: now)))"
                }
                return "SELECT DISTINCT tenant_id, open_id FROM fans WHERE " + clauses.joined(separator: " OR ")
            case .merged(let predicate):
                // In the first account's calendar: an enterprise's accounts keep one.
                let merged = self.merged(accounts)
                return "SELECT tenant_id, open_id FROM (\(merged)) m WHERE \(compile(predicate, accounts[0], now: now))"
            case .inSegment(let accountId, let segmentId):
                let tenantId = accounts.first { $0.id == accountId }?.tenantId ?? ""
                return "SELECT tenant_id, open_id FROM segment_members WHERE tenant_id = \(param(.text(tenantId))) AND account_id = \(param(.text(accountId)))"
                    + " AND segment_id = \(param(.text(segmentId)))"
            }
        }.joined(separator: " INTERSECT ")
    }

    mutating func compile(_ predicate: FanPredicate, _ account: Account, now: Int64) -> String {
        let compiled = PredicateSQL(predicate, calendar: account.calendar, now: now, dialect: dialect, firstParameter: binds.count + 1)
        binds += compiled.binds
        return compiled.condition
    }

    /// The people of the conditions, merged for the list: one row each with `accounts`, the best
    /// `tier`, `first_domain` of the earliest account met. (`IN`, not a join: SQLite makes the
    /// people an index of their own, where a join would scan the fans once a person.)
    mutating func people(_ accounts: [Account], _ conditions: [PeopleCondition], now: Int64) -> String {
        let scope = self.scope(accounts, alias: "f")
        let chosen = conditions.isEmpty ? "" : " AND (f.tenant_id, f.open_id) IN (\(hits(accounts, conditions, now: now)))"
        return """
            SELECT f.tenant_id, f.open_id, MAX(f.nickname) AS nickname, COUNT(*) AS accounts, MAX(f.tier) AS tier, MAX(f.level) AS level,
                   MAX(f.intimacy) AS intimacy, CAST(SUM(f.gmv) AS BIGINT) AS gmv, MIN(f.first_seen_at) AS first_seen,
                   \(earliest("f.first_seen_at", "f.first_domain", min: true)) AS first_domain, MAX(f.last_active_at) AS last_active
            FROM fans f WHERE \(scope)\(chosen) GROUP BY f.tenant_id, f.open_id
            """
    }

    /// The `value` of the row with the least (or greatest) `time` in a group.
    func earliest(_ time: String, _ value: String, min: Bool) -> String {
        let padded = dialect == .postgres ? "lpad(\(time)::text, 20, '0')" : "printf('%020d', \(time))"
        return "substr(\(min ? "MIN" : "MAX")(\(padded) || ':' || \(value)), 22)"
    }

    /// Every person of the scope as one row with the `fans` table's columns, so a predicate reads
    /// the merged person as it reads a fan: counters and GMV summed, the best tier, the highest
    /// level and intimacy, the union of sets, the earliest arrival and the latest activity.
    mutating func merged(_ accounts: [Account]) -> String {
        let postgres = dialect == .postgres
        var columns = ["tenant_id", "open_id"]
        for name in FanColumns.names where name != "open_id" && name != "ledger" {
            let column: String = switch name {
            case "first_seen_at", "followed_at": "MIN(\(name))"
            case "first_domain", "first_channel": earliest("first_seen_at", name, min: true)
            case "latest_domain", "latest_channel": earliest("last_active_at", name, min: false)
            case "interests", "tags", "fan_groups": postgres ? "string_agg(\(name), '')" : "group_concat(\(name), '')"
            case _ where FanCounters.fields.contains(where: { $0.name == name }) || name == "gmv": "CAST(SUM(\(name)) AS BIGINT)"
            default: "MAX(\(name))"
            }
            columns.append("\(column) AS \(name)")
        }
        return "SELECT \(columns.joined(separator: ", ")) FROM fans WHERE \(scope(accounts, alias: "fans")) GROUP BY tenant_id, open_id"
    }
}
