import FlywheelStore
import Foundation
import Logging
import PostgresNIO

/// Runs SQL with `Cell` parameters and reads rows back as cells: one way to talk to PostgreSQL
/// for every query of the store.
struct SQL {
    let logger: Logger

    /// A parameter: a scalar cell, or a column of values for `UNNEST`.
    enum Bind {
        case cell(Cell)
        case texts([String])
        case ints([Int64])
    }

    static func query(_ sql: String, _ binds: [Bind]) throws -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            switch bind {
            case .cell(.int(let i)): bindings.append(i)
            case .cell(.text(let s)): bindings.append(s)
            case .cell(.null): bindings.appendNull()
            case .texts(let values): bindings.append(values)
            case .ints(let values): bindings.append(values)
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// Runs `sql` on `connection` and returns every row.
    func rows(_ connection: PostgresConnection, _ sql: String, _ binds: [Bind] = []) async throws -> [[Cell]] {
        let sequence = try await connection.query(try Self.query(sql, binds), logger: logger)
        var rows: [[Cell]] = []
        for try await row in sequence { rows.append(try row.map(Self.cell)) }
        return rows
    }

    /// Runs a statement written once for both databases; rows by column name.
    func rows(_ connection: PostgresConnection, _ statement: SQLStatement) async throws -> [SQLRow] {
        let sequence = try await connection.query(try Self.query(statement.text(for: .postgres), statement.binds.map(Bind.cell)), logger: logger)
        var rows: [SQLRow] = []
        for try await row in sequence {
            var cells: [String: Cell] = [:]
            for cell in row { cells[cell.columnName] = try Self.cell(cell) }
            rows.append(SQLRow(cells))
        }
        return rows
    }

    /// Runs a statement and returns the rows it affected (from its `RETURNING` rows or tag).
    @discardableResult
    func run(_ connection: PostgresConnection, _ sql: String, _ binds: [Bind] = []) async throws -> Int {
        try await rows(connection, sql, binds).count
    }

    /// A many-row insert as one statement whatever its size: each column goes as one array
    /// literal, unnested, instead of a placeholder a cell (a 200-row `VALUES` list was parsed and
    /// planned for each statement, most of the time of the projection's writes). Nil when a
    /// column holds both integers and text, which only `VALUES` can send.
    static func unnest(_ insert: SQLStatement.Rows) -> (sql: String, binds: [Bind])? {
        guard let width = insert.rows.first?.count else { return nil }
        var binds = insert.key.map(Bind.cell)
        var select = binds.indices.map { "$\($0 + 1)" }
        var arrays: [String] = [], names: [String] = []
        for column in 0..<width {
            var integers: Bool?
            for row in insert.rows {
                switch row[column] {
                case .int: if integers == false { return nil } else { integers = true }
                case .text: if integers == true { return nil } else { integers = false }
                case .null: continue
                }
            }
            // A column of nulls is a null: the table says its type.
            guard let integers else {
                select.append("NULL")
                continue
            }
            binds.append(.cell(.text(arrayLiteral(insert.rows.map { $0[column] }))))
            arrays.append("$\(binds.count)::\(integers ? "bigint" : "text")[]")
            names.append("c\(column)")
            select.append("u.c\(column)")
        }
        guard !arrays.isEmpty else { return nil }
        return ("INSERT INTO \(insert.target) SELECT \(select.joined(separator: ", ")) FROM UNNEST(\(arrays.joined(separator: ", "))) AS u(\(names.joined(separator: ", "))) \(insert.conflict)",
                binds)
    }

    /// `{1,NULL,"a \"b\""}`: PostgreSQL's text form of an array, which carries nulls (the typed
    /// `.texts` and `.ints` binds cannot).
    static func arrayLiteral(_ cells: [Cell]) -> String {
        var text = "{"
        for (i, cell) in cells.enumerated() {
            if i > 0 { text += "," }
            switch cell {
            case .int(let v): text += String(v)
            case .null: text += "NULL"
            case .text(let v):
                text += "\""
                for c in v.unicodeScalars {
                    if c == "\"" || c == "\\" { text += "\\" }
                    text.unicodeScalars.append(c)
                }
                text += "\""
            }
        }
        return text + "}"
    }

    static func cell(_ cell: PostgresCell) throws -> Cell {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return .int(try cell.decode(Int64.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        default: return .text(try cell.decode(String.self))
        }
    }
}

extension Cell {
    var int: Int64? { if case .int(let v) = self { v } else { nil } }
    var text: String? { if case .text(let v) = self { v } else { nil } }
}

extension Array where Element == Cell {
    func int(_ i: Int) throws -> Int64 {
        guard let v = self[i].int else { throw StoreError.corrupt("column \(i) is not an integer") }
        return v
    }

    func text(_ i: Int) throws -> String {
        guard let v = self[i].text else { throw StoreError.corrupt("column \(i) is not text") }
        return v
    }
}
