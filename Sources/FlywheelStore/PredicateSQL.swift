import FlywheelDomain

/// Compiles a predicate to a SQL condition over the `fans` table, for full scans (segment
/// preview, a new segment). The same predicate evaluated in Swift (`CompiledPredicate`) and here
/// must agree on every fan; the contract tests check that on both stores.
public struct PredicateSQL: Sendable {
    public var condition: String
    public var binds: [Cell]

    /// `placeholder(n)` writes the n-th parameter (1-based): `?` for SQLite, `$n` for PostgreSQL.
    public init(_ predicate: FanPredicate, calendar: AccountCalendar, now: Int64, dialect: Schema.Dialect, firstParameter: Int) {
        var binds: [Cell] = []
        func param(_ cell: Cell) -> String {
            binds.append(cell)
            return dialect == .postgres ? "$\(firstParameter + binds.count - 1)" : "?"
        }
        func sql(_ p: FanPredicate) -> String {
            switch p {
            case .and(let terms): return "(" + terms.map(sql).joined(separator: " AND ") + ")"
            case .or(let terms): return "(" + terms.map(sql).joined(separator: " OR ") + ")"
            case .not(let inner): return "(NOT \(sql(inner)))"
            default: return "COALESCE((\(leaf(p))), FALSE)"  // NULL (never happened, no nickname) is false, as in Swift
            }
        }
        func value(_ literal: FanPredicate.Literal, _ field: String) -> Cell {
            switch literal {
            case .int(let n): return .int(n)
            case .text(let s): return .text(s)
            case .name(let name):
                switch FanField.all[field]?.type {
                case .ordered(let names)?: return .int(Int64(names.firstIndex(of: name) ?? 0))
                case .bool?: return .int(name == "true" ? 1 : 0)
                default: return .text(name)
                }
            }
        }
        func leaf(_ p: FanPredicate) -> String {
            switch p {
            case .compare(let field, let op, let literal):
                let column = Self.column(field)
                if case .text? = FanField.all[field]?.read, op == .eq || op == .ne {
                    // A fan without a nickname (or a gender) is not "x": equality that treats NULL as a value.
                    let negated = op == .ne
                    return dialect == .postgres
                        ? "\(column) IS \(negated ? "" : "NOT ")DISTINCT FROM \(param(value(literal, field)))"
                        : "\(column) IS \(negated ? "NOT " : "")\(param(value(literal, field)))"
                }
                return "\(column) \(op == .ne ? "<>" : op.rawValue) \(param(value(literal, field)))"
            case .member(let field, let values):
                return "\(Self.column(field)) IN (\(values.map { param(value($0, field)) }.joined(separator: ", ")))"
            case .range(let field, let low, let high):
                return "\(Self.column(field)) BETWEEN \(param(value(low, field))) AND \(param(value(high, field)))"
            case .within(let field, let seconds):
                return "\(Self.column(field)) >= \(param(.int(now - seconds * 1000)))"
            case .before(let field, let date):
                return "\(Self.column(field)) < \(param(.int(calendar.day(ofDate: date).map(calendar.startOfDay) ?? 0)))"
            case .after(let field, let date):
                return "\(Self.column(field)) >= \(param(.int(calendar.day(ofDate: date).map { calendar.startOfDay($0 + 1) } ?? 0)))"
            case .matches(let field, let pattern):
                return dialect == .postgres
                    ? "\(Self.column(field)) ~ \(param(.text(pattern)))"
                    : "flywheel_matches(\(Self.column(field)), \(param(.text(pattern))))"
            case .isTrue(let field):
                return "\(Self.column(field)) = 1"
            case .has(let field, let name):
                let needle = param(.text(SetColumn.needle(field: field, name: name)))
                return dialect == .postgres ? "strpos(\(Self.column(field)), \(needle)) > 0" : "instr(\(Self.column(field)), \(needle)) > 0"
            case .and, .or, .not:
                return sql(p)
            }
        }
        condition = sql(predicate)
        self.binds = binds
    }

    /// The SQL expression of a field; derived fields spell out their definition.
    public static func column(_ field: String) -> String {
        switch field {
        case "orders": "(orders_paid - orders_refunded)"
        case "interactions": "(likes + comments + shares + live_gifts + live_shares + dms_received + group_messages)"
        // 0 means the fan never acted on its own: no time at all.
        case "last_active": "NULLIF(last_active_at, 0)"
        case "first_seen": "first_seen_at"
        case "tier_changed": "tier_changed_at"
        case "ordered": "last_ordered_at"
        case "groups": "fan_groups"
        default: field
        }
    }
}
