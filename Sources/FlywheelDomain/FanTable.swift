/// Fans laid out by field, for full scans: a condition reads one column from start to end instead
/// of every fan's whole state, so a scan over a million fans costs a few milliseconds a condition.
/// Columns are filled through the same field readers, and tested with the same leaf tests, as the
/// per-fan evaluator: the two cannot disagree. Text and set columns are dictionary-encoded: a
/// condition is tested once per distinct value (a domain has four), then looked up per fan.
public struct FanTable: Sendable {
    enum Column: Sendable {
        case int([Int64])
        case bool([Bool])
        case text(Encoded<String?>)
        case time([Int64?])
        case set(Encoded<Set<String>>)
    }

    /// A column of values stored as codes into the distinct values.
    struct Encoded<Value: Hashable & Sendable>: Sendable {
        var codes: [Int32] = []
        var values: [Value] = []
        var index: [Value: Int32] = [:]

        init(_ column: [Value] = []) {
            codes.reserveCapacity(column.count)
            for value in column { codes.append(code(value)) }
        }

        mutating func code(_ value: Value) -> Int32 {
            if let code = index[value] { return code }
            let code = Int32(values.count)
            values.append(value)
            index[value] = code
            return code
        }

        mutating func put(_ value: Value, at row: Int, _ isNew: Bool) {
            let code = code(value)
            if isNew { codes.append(code) } else { codes[row] = code }
        }

        func map(_ test: (Value) -> Bool) -> [Bool] {
            let results = values.map(test)
            return codes.map { results[Int($0)] }
        }
    }

    public private(set) var openIds: [String] = []
    private var rows: [String: Int] = [:]
    private var columns: [String: Column]

    public init() {
        columns = FanField.all.mapValues { field in
            switch field.read {
            case .int: .int([])
            case .bool: .bool([])
            case .text: .text(Encoded())
            case .time: .time([])
            case .set: .set(Encoded())
            }
        }
    }

    /// The table of these fans, built a column at a time.
    public init(_ fans: [FanState]) {
        openIds = fans.map(\.openId)
        rows = Dictionary(openIds.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        columns = FanField.all.mapValues { field in
            switch field.read {
            case .int(let read): .int(fans.map(read))
            case .bool(let read): .bool(fans.map(read))
            case .text(let read): .text(Encoded(fans.map(read)))
            case .time(let read): .time(fans.map(read))
            case .set(let read): .set(Encoded(fans.map(read)))
            }
        }
    }

    public var count: Int { openIds.count }

    /// Adds the fan, or replaces the row of a fan already held.
    public mutating func upsert(_ fan: FanState) {
        let row = rows[fan.openId] ?? openIds.count
        let isNew = row == openIds.count
        if isNew {
            rows[fan.openId] = row
            openIds.append(fan.openId)
        }
        for (name, field) in FanField.all {
            guard var column = columns.removeValue(forKey: name) else { continue }
            // Taken out of the dictionary first so the array is changed in place, not copied.
            switch (field.read, column) {
            case (.int(let read), .int(var values)): Self.put(read(fan), at: row, isNew, &values); column = .int(values)
            case (.bool(let read), .bool(var values)): Self.put(read(fan), at: row, isNew, &values); column = .bool(values)
            case (.text(let read), .text(var values)): values.put(read(fan), at: row, isNew); column = .text(values)
            case (.time(let read), .time(var values)): Self.put(read(fan), at: row, isNew, &values); column = .time(values)
            case (.set(let read), .set(var values)): values.put(read(fan), at: row, isNew); column = .set(values)
            default: break
            }
            columns[name] = column
        }
    }

    private static func put<T>(_ value: T, at row: Int, _ isNew: Bool, _ values: inout [T]) {
        if isNew { values.append(value) } else { values[row] = value }
    }

    /// Which rows satisfy the predicate at `now` (ms).
    public func matches(_ predicate: FanPredicate, calendar: AccountCalendar, now: Int64) -> [Bool] {
        switch predicate {
        case .and(let terms):
            var result = [Bool](repeating: true, count: count)
            for term in terms {
                let next = matches(term, calendar: calendar, now: now)
                for i in result.indices { result[i] = result[i] && next[i] }
            }
            return result
        case .or(let terms):
            var result = [Bool](repeating: false, count: count)
            for term in terms {
                let next = matches(term, calendar: calendar, now: now)
                for i in result.indices { result[i] = result[i] || next[i] }
            }
            return result
        case .not(let inner):
            return matches(inner, calendar: calendar, now: now).map { !$0 }
        default:
            guard let (field, test) = predicate.leaf(calendar), let column = columns[field] else { return [Bool](repeating: false, count: count) }
            switch (column, test) {
            case (.int(let values), .int(let test)): return values.map(test)
            case (.bool(let values), .bool(let test)): return values.map(test)
            case (.text(let values), .text(let test)): return values.map(test)
            case (.time(let values), .time(let test)): return values.map { test($0, now) }
            case (.set(let values), .set(let test)): return values.map(test)
            default: return [Bool](repeating: false, count: count)
            }
        }
    }
}
