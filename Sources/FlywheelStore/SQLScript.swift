/// Ordinary SQL written once for both databases: statements with `?` placeholders (numbered for
/// PostgreSQL when run there), rows read by column name, and a transaction as a list of steps each
/// backend runs its own way. Only the measured hot paths (append, fan upserts, segment apply) are
/// written per backend.
public struct SQLStatement: Sendable {
    public var sql: String
    public var binds: [Cell]
    /// The rows of a many-row insert (`insert`), for a store that sends them its own way.
    public var rows: Rows?

    /// A many-row insert's parts: `INSERT INTO target` rows that each start with `key`, then `conflict`.
    public struct Rows: Sendable {
        public var target: String
        public var key: [Cell]
        public var rows: [[Cell]]
        public var conflict: String

        /// Whether `other` inserts into the same place the same way: its rows can join these in
        /// one statement (the chunks of one `insert`, whose rows each hold a key once).
        public func joins(_ other: Rows) -> Bool {
            target == other.target && conflict == other.conflict && key == other.key
        }
    }

    public init(_ sql: String, _ binds: [Cell] = []) {
        self.sql = sql
        self.binds = binds
    }

    /// The text for `dialect`: PostgreSQL numbers its placeholders (`$1`, `$2`...).
    public func text(for dialect: Schema.Dialect) -> String {
        guard dialect == .postgres else { return sql }
        var text = ""
        var n = 0
        for c in sql {
            if c == "?" {
                n += 1
                text += "$\(n)"
            } else {
                text.append(c)
            }
        }
        return text
    }

    /// A `LIKE … ESCAPE '\'` pattern for text containing `text` as typed: its `%`, `_` and `\` match themselves.
    public static func containing(_ text: String) -> Cell {
        .text("%" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%")
    }

    /// `?, ?, ?` for a list of `count` values.
    public static func placeholders(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

    /// `INSERT INTO table VALUES …` for rows that each start with `key` (the tenant's and the
    /// account's, usually), 200 rows a statement (the rest in a few forms, as `chunks` splits it);
    /// `conflict` follows each (`ON CONFLICT …`). `columns` names the columns when the rows do not
    /// fill the table's in order. The rows hold each key once: PostgreSQL sends them all as one
    /// statement, where an upsert may not meet its own row twice.
    public static func insert(_ table: String, columns: String? = nil, key: [Cell], rows: [[Cell]], then conflict: String) -> [SQLStatement] {
        guard let width = rows.first.map({ $0.count + key.count }) else { return [] }
        let row = "(" + placeholders(width) + ")"
        let target = columns.map { "\(table) (\($0))" } ?? table
        return chunks(rows, of: 200, fewForms: true).map { chunk in
            var statement = SQLStatement("INSERT INTO \(target) VALUES \(Array(repeating: row, count: chunk.count).joined(separator: ", ")) \(conflict)",
                                         chunk.flatMap { key + $0 })
            statement.rows = Rows(target: target, key: key, rows: Array(chunk), conflict: conflict)
            return statement
        }
    }

    /// `items` in slices of at most `size`, for statements with a bounded number of placeholders.
    /// With `fewForms`, the rest after the full slices comes in slices of descending powers of
    /// two, so that the statement's text takes one of a few forms, which SQLite keeps prepared:
    /// for the statements a projection batch writes.
    static func chunks<T>(_ items: [T], of size: Int, fewForms: Bool = false) -> [ArraySlice<T>] {
        guard fewForms else { return stride(from: 0, to: items.count, by: size).map { items[$0..<min($0 + size, items.count)] } }
        var sizes = Array(repeating: size, count: items.count / size)
        let rest = items.count % size
        sizes += (0..<Int.bitWidth - 1).reversed().map { 1 << $0 }.filter { rest & $0 != 0 }
        var start = items.startIndex
        return sizes.map { n in
            defer { start += n }
            return items[start..<start + n]
        }
    }
}

/// One step of a transaction.
public enum SQLStep: Sendable {
    case execute(SQLStatement)
    /// Runs the query and fails the transaction with the error when it finds no row.
    case require(SQLStatement, orElse: StoreError)
    /// Runs the query and fails the transaction with the error when it finds a row.
    case forbid(SQLStatement, orElse: StoreError)
    /// A statement only PostgreSQL needs (a lock SQLite's single writer makes unnecessary).
    case postgresOnly(SQLStatement)
}

/// A row read by column name.
public struct SQLRow: Sendable {
    public let cells: [String: Cell]

    public init(_ cells: [String: Cell]) { self.cells = cells }

    public func text(_ column: String) throws -> String {
        guard case .text(let value) = cells[column] else { throw StoreError.corrupt("column \(column) is not text") }
        return value
    }

    public func int(_ column: String) throws -> Int64 {
        guard case .int(let value) = cells[column] else { throw StoreError.corrupt("column \(column) is not an integer") }
        return value
    }

    public func optionalText(_ column: String) -> String? {
        if case .text(let value) = cells[column] { value } else { nil }
    }

    public func optionalInt(_ column: String) -> Int64? {
        if case .int(let value) = cells[column] { value } else { nil }
    }
}

/// Runs SQL on one database: each backend's one implementation of the ordinary paths.
public protocol SQLRunner: Sendable {
    var dialect: Schema.Dialect { get }
    /// Runs the steps in one transaction; returns the rows of the last step.
    @discardableResult
    func transaction(_ steps: [SQLStep]) async throws -> [SQLRow]
    func query(_ statement: SQLStatement) async throws -> [SQLRow]
}

extension Cell {
    /// A text or, for nil, NULL.
    public static func nullable(_ value: String?) -> Cell { value.map(Cell.text) ?? .null }
    /// An integer or, for nil, NULL.
    public static func nullable(_ value: Int64?) -> Cell { value.map(Cell.int) ?? .null }
}
