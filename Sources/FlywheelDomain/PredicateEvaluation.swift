import Foundation

/// A type-checked predicate turned into a closure: evaluated per changed fan, it costs a few
/// comparisons, no parsing, no lookups by name.
public struct CompiledPredicate: Sendable {
    let test: @Sendable (FanState, Int64) -> Bool

    /// Whether `fan` satisfies the predicate at `now` (ms), which time conditions are relative to.
    public func matches(_ fan: FanState, now: Int64) -> Bool { test(fan, now) }
}

/// What one condition tests, on the value of its field: the meaning of every leaf, shared by the
/// per-fan evaluator (`compile`) and the column scan (`FanTable`).
enum LeafTest: Sendable {
    case int(@Sendable (Int64) -> Bool)
    case bool(@Sendable (Bool) -> Bool)
    case text(@Sendable (String?) -> Bool)
    /// The time (nil when it never happened) and `now`.
    case time(@Sendable (Int64?, Int64) -> Bool)
    case set(@Sendable (Set<String>) -> Bool)
    /// A condition that cannot hold (a field that does not fit; the parser lets none through).
    case never
}

extension FanPredicate {
    /// Compiles for one account: dates are days in its time zone.
    public func compile(calendar: AccountCalendar) -> CompiledPredicate {
        CompiledPredicate(test: closure(calendar))
    }

    private func closure(_ calendar: AccountCalendar) -> @Sendable (FanState, Int64) -> Bool {
        switch self {
        case .and(let terms):
            let tests = terms.map { $0.closure(calendar) }
            return { fan, now in tests.allSatisfy { $0(fan, now) } }
        case .or(let terms):
            let tests = terms.map { $0.closure(calendar) }
            return { fan, now in tests.contains { $0(fan, now) } }
        case .not(let inner):
            let test = inner.closure(calendar)
            return { fan, now in !test(fan, now) }
        default:
            guard let (field, test) = leaf(calendar), let reader = FanField.all[field]?.read else { return { _, _ in false } }
            switch (reader, test) {
            case (.int(let read), .int(let test)): return { fan, _ in test(read(fan)) }
            case (.bool(let read), .bool(let test)): return { fan, _ in test(read(fan)) }
            case (.text(let read), .text(let test)): return { fan, _ in test(read(fan)) }
            case (.time(let read), .time(let test)): return { fan, now in test(read(fan), now) }
            case (.set(let read), .set(let test)): return { fan, _ in test(read(fan)) }
            default: return { _, _ in false }
            }
        }
    }

    /// The field a condition reads and its test on the field's value; nil for and/or/not.
    func leaf(_ calendar: AccountCalendar) -> (field: String, test: LeafTest)? {
        func on(_ field: String, _ make: (FieldType, FanField.Reader) -> LeafTest) -> (String, LeafTest) {
            guard let (type, reader) = FanField.all[field] else { return (field, .never) }
            return (field, make(type, reader))
        }
        switch self {
        case .and, .or, .not:
            return nil
        case .compare(let field, let op, let value):
            return on(field) { type, reader in
                switch reader {
                case .int:
                    let target = Self.number(value, type)
                    return .int { op.holds($0, target) }
                case .bool:
                    let target = value == .name("true")
                    return .bool { op == .eq ? $0 == target : $0 != target }
                case .text:
                    let target = Self.string(value)
                    return .text { op == .eq ? $0 == target : $0 != target }
                case .time, .set:
                    return .never
                }
            }
        case .member(let field, let values):
            return on(field) { type, reader in
                switch reader {
                case .int:
                    let set = Set(values.map { Self.number($0, type) })
                    return .int { set.contains($0) }
                case .text:
                    let set = Set(values.map(Self.string))
                    return .text { $0.map(set.contains) ?? false }
                case .bool:
                    let set = Set(values.map { $0 == .name("true") })
                    return .bool { set.contains($0) }
                case .time, .set:
                    return .never
                }
            }
        case .range(let field, let low, let high):
            return on(field) { type, _ in
                let range = Self.number(low, type)...max(Self.number(low, type), Self.number(high, type))
                return .int { range.contains($0) }
            }
        case .within(let field, let seconds):
            let span = seconds * 1000
            return on(field) { _, _ in .time { time, now in time.map { $0 >= now - span } ?? false } }
        case .before(let field, let date):
            guard let day = calendar.day(ofDate: date) else { return (field, .never) }
            let start = calendar.startOfDay(day)
            return on(field) { _, _ in .time { time, _ in time.map { $0 < start } ?? false } }
        case .after(let field, let date):
            guard let day = calendar.day(ofDate: date) else { return (field, .never) }
            let end = calendar.startOfDay(day + 1)
            return on(field) { _, _ in .time { time, _ in time.map { $0 >= end } ?? false } }
        case .matches(let field, let pattern):
            guard let compiled = TextPattern(pattern) else { return (field, .never) }
            return on(field) { _, _ in .text { $0.map(compiled.matches) ?? false } }
        case .has(let field, let value):
            return on(field) { _, _ in .set { $0.contains(value) } }
        case .isTrue(let field):
            return on(field) { _, _ in .bool { $0 } }
        }
    }

    /// An integer value: a number, or an ordered name's position (tiers).
    private static func number(_ literal: Literal, _ type: FieldType) -> Int64 {
        switch literal {
        case .int(let n): return n
        case .name(let name):
            if case .ordered(let names) = type, let i = names.firstIndex(of: name) { return Int64(i) }
            return 0
        case .text: return 0
        }
    }

    private static func string(_ literal: Literal) -> String {
        switch literal {
        case .int(let n): String(n)
        case .name(let s), .text(let s): s
        }
    }
}

extension FanPredicate.Comparison {
    func holds(_ a: Int64, _ b: Int64) -> Bool {
        switch self {
        case .eq: a == b
        case .ne: a != b
        case .lt: a < b
        case .le: a <= b
        case .gt: a > b
        case .ge: a >= b
        }
    }
}

/// A compiled regular expression for `matches`; NSRegularExpression is immutable once made, so
/// sharing it across threads is safe.
public final class TextPattern: @unchecked Sendable {
    private let regex: NSRegularExpression
    /// The pattern's text when it is plain characters, maybe after `^`: matched by comparing bytes
    /// (a tenth of the regular expression's time over a million nicknames).
    private let literal: (bytes: [UInt8], anchored: Bool)?

    /// nil when the pattern does not compile.
    public init?(_ pattern: String) {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        self.regex = regex
        let anchored = pattern.hasPrefix("^")
        let body = anchored ? pattern.dropFirst() : Substring(pattern)
        literal = body.isEmpty || body.unicodeScalars.contains(where: { "\\.^$|?*+()[]{}#".unicodeScalars.contains($0) || $0.properties.isWhitespace })
            ? nil : (Array(body.utf8), anchored)
    }

    public func matches(_ text: String) -> Bool {
        if let literal {
            let bytes = Array(text.utf8)
            if literal.anchored { return bytes.starts(with: literal.bytes) }
            guard bytes.count >= literal.bytes.count else { return false }
            return (0...(bytes.count - literal.bytes.count)).contains { bytes[$0..<$0 + literal.bytes.count].elementsEqual(literal.bytes) }
        }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

// MARK: - Text and JSON forms

extension FanPredicate {
    /// The `within` conditions: a fan's membership can change with nothing but time passing when
    /// one of these fields crosses `now - seconds`.
    public var windows: [(field: String, seconds: Int64)] {
        switch self {
        case .and(let terms), .or(let terms): terms.flatMap(\.windows)
        case .not(let inner): inner.windows
        case .within(let field, let seconds): [(field, seconds)]
        default: []
        }
    }

    /// Every field the predicate reads.
    public var fields: Set<String> {
        switch self {
        case .and(let terms), .or(let terms): terms.reduce(into: []) { $0.formUnion($1.fields) }
        case .not(let inner): inner.fields
        case .compare(let field, _, _), .member(let field, _), .range(let field, _, _), .within(let field, _), .before(let field, _),
             .after(let field, _), .matches(let field, _), .isTrue(let field), .has(let field, _): [field]
        }
    }

    /// The whole numbers `field` is compared with.
    public func numbers(comparedWith field: String) -> [Int64] {
        func number(_ literal: Literal) -> [Int64] { if case .int(let n) = literal { [n] } else { [] } }
        switch self {
        case .and(let terms), .or(let terms): return terms.flatMap { $0.numbers(comparedWith: field) }
        case .not(let inner): return inner.numbers(comparedWith: field)
        case .compare(field, _, let value): return number(value)
        case .member(field, let values): return values.flatMap(number)
        case .range(field, let low, let high): return number(low) + number(high)
        default: return []
        }
    }
}

extension FanPredicate: CustomStringConvertible {
    /// The canonical text form; `FanPredicate.parse(p.description) == p`.
    public var description: String {
        switch self {
        case .and(let terms): terms.map { $0.grouped(inside: .and) }.joined(separator: " and ")
        case .or(let terms): terms.map { $0.grouped(inside: .or) }.joined(separator: " or ")
        case .not(let inner): "not " + inner.grouped(inside: .not)
        case .compare(let field, let op, let value): "\(field) \(op.rawValue) \(value)"
        case .member(let field, let values): "\(field) in (\(values.map(\.description).joined(separator: ", ")))"
        case .range(let field, let low, let high): "\(field) between \(low) and \(high)"
        case .within(let field, let seconds): "\(field) within \(Self.durationText(seconds))"
        case .before(let field, let date): "\(field) before \(date)"
        case .after(let field, let date): "\(field) after \(date)"
        case .matches(let field, let pattern): "\(field) matches \(Literal.text(pattern))"
        case .isTrue(let field): field
        case .has(let field, let value): "\(field) has \(Literal.text(value))"
        }
    }

    private enum Context { case and, or, not }

    private func grouped(inside context: Context) -> String {
        switch (self, context) {
        case (.or, .and), (.or, .not), (.and, .not): "(\(description))"
        default: description
        }
    }

    static func durationText(_ seconds: Int64) -> String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        return "\(seconds / 3_600)h"
    }
}

extension FanPredicate.Literal: CustomStringConvertible {
    public var description: String {
        switch self {
        case .int(let n): String(n)
        // A name that is not a plain word ("24-30", "50+") is written quoted, which reads back the same.
        case .name(let s): s.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) && !(s.first?.isNumber ?? true) ? s : FanPredicate.Literal.text(s).description
        case .text(let s): "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
    }
}

/// The JSON form: `{"and": [...]}`, `{"or": [...]}`, `{"not": {...}}`, and conditions
/// `{"field": "level", "op": ">=", "value": 9}` with `op` one of the comparison symbols, `in` and
/// `between` (with `values`), `within` (`"30d"`), `before`/`after` (`"2026-01-01"`), `matches`,
/// `has` (a name) for a set field, and `is` (`true`) for a true-or-false field. Decoding checks it
/// exactly as parsing the text does, and also takes the text form as a JSON string.
extension FanPredicate: Codable {
    private enum Keys: String, CodingKey { case and, or, not, field, op, value, values }

    public init(from decoder: any Decoder) throws {
        // Each level of nesting adds one or two keys to the path: stop before the decoder recurses far.
        guard decoder.codingPath.count <= 2 * FanPredicate.maxDepth + 8 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "nested more than \(FanPredicate.maxDepth) deep"))
        }
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            do {
                self = try FanPredicate.parse(text)
                return
            } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
            }
        }
        let c = try decoder.container(keyedBy: Keys.self)
        let raw: FanPredicate
        if let terms = try c.decodeIfPresent([FanPredicate].self, forKey: .and) {
            raw = .and(terms)
        } else if let terms = try c.decodeIfPresent([FanPredicate].self, forKey: .or) {
            raw = .or(terms)
        } else if let inner = try c.decodeIfPresent(FanPredicate.self, forKey: .not) {
            raw = .not(inner)
        } else {
            let field = try c.decode(String.self, forKey: .field)
            let op = try c.decode(String.self, forKey: .op)
            func literal(_ value: JSONLiteral) -> Literal {
                switch value {
                case .int(let n): .int(n)
                case .bool(let b): .name(b ? "true" : "false")
                case .string(let s): FanField.all[field]?.type == .text ? .text(s) : .name(s)
                }
            }
            switch op {
            case "in": raw = .member(field: field, values: try c.decode([JSONLiteral].self, forKey: .values).map(literal))
            case "between":
                let values = try c.decode([JSONLiteral].self, forKey: .values)
                guard values.count == 2 else { throw DecodingError.dataCorruptedError(forKey: .values, in: c, debugDescription: "between takes two values") }
                raw = .range(field: field, low: literal(values[0]), high: literal(values[1]))
            case "within":
                let text = try c.decode(String.self, forKey: .value)
                guard let seconds = PredicateParser.seconds(text) else { throw DecodingError.dataCorruptedError(forKey: .value, in: c, debugDescription: "a duration such as 30d") }
                raw = .within(field: field, seconds: seconds)
            case "before": raw = .before(field: field, date: try c.decode(String.self, forKey: .value))
            case "after": raw = .after(field: field, date: try c.decode(String.self, forKey: .value))
            case "matches": raw = .matches(field: field, pattern: try c.decode(String.self, forKey: .value))
            case "has": raw = .has(field: field, value: try c.decode(String.self, forKey: .value))
            case "is":
                guard try c.decode(Bool.self, forKey: .value) else {
                    throw DecodingError.dataCorruptedError(forKey: .value, in: c, debugDescription: "use {\"not\": ...} for false")
                }
                raw = .isTrue(field: field)
            default:
                guard let comparison = Comparison(rawValue: op) else {
                    throw DecodingError.dataCorruptedError(forKey: .op, in: c, debugDescription: "unknown operator '\(op)'")
                }
                raw = .compare(field: field, op: comparison, value: literal(try c.decode(JSONLiteral.self, forKey: .value)))
            }
        }
        // One checker for both forms: the JSON must mean what its text would.
        do {
            self = try FanPredicate.parse(raw.description)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message + (error.hint.map { ", \($0)" } ?? "")))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        func json(_ literal: Literal) -> JSONLiteral {
            switch literal {
            case .int(let n): .int(n)
            case .name("true"): .bool(true)
            case .name("false"): .bool(false)
            case .name(let s), .text(let s): .string(s)
            }
        }
        switch self {
        case .and(let terms): try c.encode(terms, forKey: .and)
        case .or(let terms): try c.encode(terms, forKey: .or)
        case .not(let inner): try c.encode(inner, forKey: .not)
        case .compare(let field, let op, let value):
            try c.encode(field, forKey: .field); try c.encode(op.rawValue, forKey: .op); try c.encode(json(value), forKey: .value)
        case .member(let field, let values):
            try c.encode(field, forKey: .field); try c.encode("in", forKey: .op); try c.encode(values.map(json), forKey: .values)
        case .range(let field, let low, let high):
            try c.encode(field, forKey: .field); try c.encode("between", forKey: .op); try c.encode([json(low), json(high)], forKey: .values)
        case .within(let field, let seconds):
            try c.encode(field, forKey: .field); try c.encode("within", forKey: .op); try c.encode(Self.durationText(seconds), forKey: .value)
        case .before(let field, let date):
            try c.encode(field, forKey: .field); try c.encode("before", forKey: .op); try c.encode(date, forKey: .value)
        case .after(let field, let date):
            try c.encode(field, forKey: .field); try c.encode("after", forKey: .op); try c.encode(date, forKey: .value)
        case .matches(let field, let pattern):
            try c.encode(field, forKey: .field); try c.encode("matches", forKey: .op); try c.encode(pattern, forKey: .value)
        case .isTrue(let field):
            try c.encode(field, forKey: .field); try c.encode("is", forKey: .op); try c.encode(true, forKey: .value)
        case .has(let field, let value):
            try c.encode(field, forKey: .field); try c.encode("has", forKey: .op); try c.encode(value, forKey: .value)
        }
    }
}

/// A JSON scalar as predicates use them.
enum JSONLiteral: Codable, Equatable {
    case int(Int64), bool(Bool), string(String)

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Int64.self) { self = .int(n) }
        else { self = .string(try c.decode(String.self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let n): try c.encode(n)
        case .bool(let b): try c.encode(b)
        case .string(let s): try c.encode(s)
        }
    }
}
