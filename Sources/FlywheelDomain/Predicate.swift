import Foundation

/// A condition over a fan's state, in the one predicate language of segments, tier and tag rules,
/// thresholds and eligibility (docs/predicates.md). `FanPredicate.parse` reads the text form; the
/// `Codable` form is the API's JSON; `compile` checks types and returns a fast evaluator.
public indirect enum FanPredicate: Equatable, Sendable {
    case and([FanPredicate])
    case or([FanPredicate])
    case not(FanPredicate)
    /// `level >= 9`, `first_domain = commercial`
    case compare(field: String, op: Comparison, value: Literal)
    /// `first_domain in (public, commercial)`
    case member(field: String, values: [Literal])
    /// `level between 3 and 8` (both ends included)
    case range(field: String, low: Literal, high: Literal)
    /// `last_active within 30d`: at most that long ago.
    case within(field: String, seconds: Int64)
    /// `followed_at before 2026-01-01`: strictly before the start of that day.
    case before(field: String, date: String)
    /// `first_seen after 2026-01-01`: on or after the start of the day after.
    case after(field: String, date: String)
    /// `nickname matches "^王"`
    case matches(field: String, pattern: String)
    /// `following`: a true-or-false field on its own.
    case isTrue(field: String)
    /// `tags has "vip"`: a set field holds the name.
    case has(field: String, value: String)

    public enum Comparison: String, Sendable, CaseIterable, Codable {
        case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    }

    public enum Literal: Equatable, Sendable {
        case int(Int64)
        /// A bare word: a tier, domain or channel name, `true`, `false`.
        case name(String)
        /// A quoted string.
        case text(String)
    }
}

/// A predicate that could not be read or does not fit the fields: where, what, and a hint.
public struct PredicateError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public var hint: String?

    public var description: String { "\(line):\(column): \(message)" + (hint.map { ", \($0)" } ?? "") }
}

// MARK: - Fields

/// What a field holds, which decides the operators and values it takes.
public enum FieldType: Equatable, Sendable {
    case int, bool, text, time
    /// Ordered names, compared by position (tiers).
    case ordered([String])
    /// Unordered names (domains, channels).
    case names([String])
    /// A set of names (tags, interests, groups), tested with `has`.
    case set
}

/// The fields of a fan that predicates can use, with how to read each.
public enum FanField {
    public enum Reader: Sendable {
        case int(@Sendable (FanState) -> Int64)
        case bool(@Sendable (FanState) -> Bool)
        case text(@Sendable (FanState) -> String?)
        /// Milliseconds, nil when it never happened.
        case time(@Sendable (FanState) -> Int64?)
        /// The names in the fan's set.
        case set(@Sendable (FanState) -> Set<String>)
    }

    public static let all: [String: (type: FieldType, read: Reader)] = {
        var fields: [String: (type: FieldType, read: Reader)] = [
            "tier": (.ordered(Tier.allCases.map(\.name)), .int { Int64($0.tier.rawValue) }),
            "level": (.int, .int { Int64($0.level) }),
            "intimacy": (.int, .int { Int64($0.intimacy) }),
            "gmv": (.int, .int { Int64($0.gmv) }),
            "orders": (.int, .int { Int64($0.counters.orders) }),
            "interactions": (.int, .int { Int64($0.counters.interactions) }),
            "following": (.bool, .bool { $0.following }),
            "nickname": (.text, .text { $0.nickname }),
            "open_id": (.text, .text { $0.openId }),
            "first_domain": (.names(SourceDomain.allCases.map(\.rawValue)), .text { $0.firstDomain.rawValue }),
            "latest_domain": (.names(SourceDomain.allCases.map(\.rawValue)), .text { $0.latestDomain.rawValue }),
            "first_channel": (.names(Channel.allCases.map(\.rawValue)), .text { $0.firstChannel.rawValue }),
            "latest_channel": (.names(Channel.allCases.map(\.rawValue)), .text { $0.latestChannel.rawValue }),
            "last_active": (.time, .time { $0.lastActiveAt > 0 ? $0.lastActiveAt : nil }),
            "first_seen": (.time, .time { $0.firstSeenAt }),
            "followed_at": (.time, .time { $0.followedAt }),
            "tier_changed": (.time, .time { $0.tierChangedAt }),
            "ordered": (.time, .time { $0.lastOrderedAt }),
            "gender": (.names(FanProfile.genders), .text { $0.profile.gender }),
            "age_band": (.names(FanProfile.ageBands), .text { $0.profile.ageBand }),
            "device": (.names(FanProfile.devices), .text { $0.profile.device }),
            "region": (.text, .text { $0.profile.region }),
            "city": (.text, .text { $0.profile.city }),
            "phone": (.text, .text { $0.profile.phone }),
            "interests": (.set, .set { $0.profile.interests }),
            "tags": (.set, .set { $0.tags }),
            "groups": (.set, .set { Set($0.groups.compactMap { $0.value.member ? $0.key : nil }) }),
        ]
        for counter in FanCounters.fields {
            let path = counter.keyPath
            fields[counter.name] = (.int, .int { Int64($0.counters[keyPath: path]) })
        }
        return fields
    }()
}

// MARK: - Parsing

extension FanPredicate {
    /// The longest text a predicate may have, in bytes, and how deeply `not` and parentheses may
    /// nest: no caller can make the parser or the evaluators recurse without bound.
    public static let maxTextLength = 10_000
    public static let maxDepth = 32

    /// Reads the text form; errors carry line and column.
    public static func parse(_ text: String) throws(PredicateError) -> FanPredicate {
        guard text.utf8.count <= maxTextLength else {
            throw PredicateError(line: 1, column: 1, message: "the predicate is \(text.utf8.count) bytes long; at most \(maxTextLength)",
                                 hint: "split it into segments, or use tags for long lists")
        }
        var parser = PredicateParser(tokens: try PredicateLexer.tokens(text))
        let predicate = try parser.expression()
        if let extra = parser.peek, extra.kind != .end {
            throw parser.error(at: extra, "unexpected '\(extra.text)'", hint: "join conditions with 'and' or 'or'")
        }
        return predicate
    }
}

struct Token: Equatable {
    enum Kind: Equatable { case word, number, string, duration, date, symbol, end }
    var kind: Kind
    var text: String
    var line: Int
    var column: Int
}

enum PredicateLexer {
    static func tokens(_ text: String) throws(PredicateError) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(text)
        var i = 0, line = 1, column = 1
        func advance() {
            if chars[i] == "\n" { line += 1; column = 1 } else { column += 1 }
            i += 1
        }
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { advance(); continue }
            let (startLine, startColumn) = (line, column)
            func token(_ kind: Token.Kind, _ text: String) { tokens.append(Token(kind: kind, text: text, line: startLine, column: startColumn)) }
            if c.isLetter || c == "_" {
                var word = ""
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { word.append(chars[i]); advance() }
                token(.word, word)
            } else if c.isNumber || (c == "-" && i + 1 < chars.count && chars[i + 1].isNumber) {
                var number = String(c)
                advance()
                while i < chars.count, chars[i].isNumber || chars[i] == "-" { number.append(chars[i]); advance() }
                if number.count == 10, number.filter({ $0 == "-" }).count == 2, !number.hasPrefix("-") {
                    token(.date, number)
                } else if i < chars.count, "dhwm".contains(chars[i]), !(i + 1 < chars.count && (chars[i + 1].isLetter || chars[i + 1].isNumber)) {
                    number.append(chars[i]); advance()
                    token(.duration, number)
                } else {
                    guard Int64(number) != nil else {
                        throw PredicateError(line: startLine, column: startColumn, message: "'\(number)' is not a number or a date", hint: "write dates as YYYY-MM-DD")
                    }
                    token(.number, number)
                }
            } else if c == "\"" || c == "'" {
                advance()
                var string = ""
                while i < chars.count, chars[i] != c {
                    if chars[i] == "\\", i + 1 < chars.count { advance() }
                    string.append(chars[i]); advance()
                }
                guard i < chars.count else {
                    throw PredicateError(line: startLine, column: startColumn, message: "unterminated string", hint: "close it with \(c)")
                }
                advance()
                token(.string, string)
            } else if let two = i + 1 < chars.count ? String([c, chars[i + 1]]) : nil, ["<=", ">=", "!="].contains(two) {
                advance(); advance()
                token(.symbol, two)
            } else if "=<>(),".contains(c) {
                advance()
                token(.symbol, String(c))
            } else {
                throw PredicateError(line: startLine, column: startColumn, message: "unexpected character '\(c)'", hint: nil)
            }
        }
        tokens.append(Token(kind: .end, text: "end of input", line: line, column: column))
        return tokens
    }
}

struct PredicateParser {
    let tokens: [Token]
    var index = 0
    var depth = 0

    var peek: Token? { index < tokens.count ? tokens[index] : nil }

    func error(at token: Token, _ message: String, hint: String? = nil) -> PredicateError {
        PredicateError(line: token.line, column: token.column, message: message, hint: hint)
    }

    mutating func next() -> Token {
        defer { index = min(index + 1, tokens.count - 1) }
        return tokens[index]
    }

    mutating func accept(_ word: String) -> Bool {
        guard let t = peek, (t.kind == .word && t.text.lowercased() == word) || (t.kind == .symbol && t.text == word) else { return false }
        index += 1
        return true
    }

    mutating func expect(_ word: String, hint: String? = nil) throws(PredicateError) {
        guard accept(word) else {
            let t = tokens[index]
            throw error(at: t, "expected '\(word)' but found '\(t.text)'", hint: hint)
        }
    }

    mutating func expression() throws(PredicateError) -> FanPredicate {
        var terms = [try conjunction()]
        while accept("or") { terms.append(try conjunction()) }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    mutating func conjunction() throws(PredicateError) -> FanPredicate {
        var terms = [try negation()]
        while accept("and") { terms.append(try negation()) }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    mutating func negation() throws(PredicateError) -> FanPredicate {
        guard let t = peek, (t.kind == .word && t.text.lowercased() == "not") || (t.kind == .symbol && t.text == "(") else {
            return try condition()
        }
        guard depth < FanPredicate.maxDepth else {
            throw error(at: t, "nested more than \(FanPredicate.maxDepth) deep", hint: "simplify: 'not not x' is x, and 'and'/'or' need no parentheses of their own")
        }
        depth += 1
        defer { depth -= 1 }
        if accept("not") { return .not(try negation()) }
        _ = accept("(")
        let inner = try expression()
        try expect(")", hint: "every '(' needs its ')'")
        return inner
    }

    mutating func condition() throws(PredicateError) -> FanPredicate {
        let fieldToken = next()
        guard fieldToken.kind == .word, !Self.keywords.contains(fieldToken.text.lowercased()) else {
            throw error(at: fieldToken, "expected a field but found '\(fieldToken.text)'", hint: "for example: level >= 9")
        }
        let field = fieldToken.text
        guard let (type, _) = FanField.all[field] else {
            let suggestion = Self.closest(to: field, among: Array(FanField.all.keys))
            throw error(at: fieldToken, "unknown field '\(field)'", hint: suggestion.map { "did you mean '\($0)'?" } ?? "see docs/predicates.md for the fields")
        }
        let opToken = peek ?? fieldToken
        if let op = FanPredicate.Comparison(rawValue: opToken.text), opToken.kind == .symbol {
            index += 1
            switch type {
            case .int, .ordered: break
            case .time:
                throw error(at: opToken, "'\(field)' is a time", hint: "use within 30d, before 2026-01-01 or after 2026-01-01")
            case .bool, .text, .names:
                guard op == .eq || op == .ne else {
                    throw error(at: opToken, "'\(field)' has no order", hint: "use = or != (or in (...))")
                }
            case .set:
                throw error(at: opToken, "'\(field)' is a set of names", hint: "use \(field) has \"name\"")
            }
            return .compare(field: field, op: op, value: try literal(for: field, type))
        }
        if accept("has") {
            guard type == .set else { throw error(at: fieldToken, "'\(field)' is not a set", hint: "has applies to tags, interests, groups") }
            let t = next()
            guard t.kind == .string || t.kind == .word, !Self.keywords.contains(t.text.lowercased()) || t.kind == .string else {
                throw error(at: t, "expected a name such as \"vip\" but found '\(t.text)'")
            }
            guard SetField.isValidName(t.text) else {
                throw error(at: t, "'\(t.text)' cannot be a name in \(field)", hint: "names are 1 to 50 characters without ',' or '='")
            }
            return .has(field: field, value: t.text)
        }
        if type == .set {
            throw error(at: opToken, "'\(field)' is a set of names", hint: "use \(field) has \"name\" (and 'or' for any of several)")
        }
        if accept("in") {
            try expect("(", hint: "list the values in parentheses: in (a, b)")
            var values = [try literal(for: field, type)]
            while accept(",") { values.append(try literal(for: field, type)) }
            try expect(")", hint: "close the list with ')'")
            return .member(field: field, values: values)
        }
        if accept("between") {
            switch type {
            case .int, .ordered: break
            default: throw error(at: fieldToken, "'\(field)' has no order to take a range of", hint: "use in (...)")
            }
            let low = try literal(for: field, type)
            try expect("and", hint: "between LOW and HIGH")
            return .range(field: field, low: low, high: try literal(for: field, type))
        }
        if accept("within") {
            let t = next()
            guard t.kind == .duration, let seconds = Self.seconds(t.text) else {
                throw error(at: t, "expected a duration such as 30d but found '\(t.text)'", hint: "units: h, d, w, m (30 days)")
            }
            guard type == .time else { throw error(at: fieldToken, "'\(field)' is not a time", hint: "within applies to \(Self.timeFields)") }
            return .within(field: field, seconds: seconds)
        }
        for word in ["before", "after"] where accept(word) {
            let t = next()
            guard t.kind == .date else { throw error(at: t, "expected a date such as 2026-01-01 but found '\(t.text)'") }
            guard type == .time else { throw error(at: fieldToken, "'\(field)' is not a time", hint: "\(word) applies to \(Self.timeFields)") }
            return word == "before" ? .before(field: field, date: t.text) : .after(field: field, date: t.text)
        }
        if accept("matches") {
            let t = next()
            guard t.kind == .string else { throw error(at: t, "expected a quoted pattern", hint: "nickname matches \"^王\"") }
            guard type == .text else { throw error(at: fieldToken, "'\(field)' is not text", hint: nil) }
            guard (try? NSRegularExpression(pattern: t.text)) != nil else {
                throw error(at: t, "the pattern \"\(t.text)\" does not compile", hint: "check its brackets and escapes")
            }
            return .matches(field: field, pattern: t.text)
        }
        guard type == .bool else {
            throw error(at: opToken, "expected an operator after '\(field)' but found '\(opToken.text)'", hint: "one of = != < <= > >= in between within before after matches has")
        }
        return .isTrue(field: field)
    }

    /// A value, checked against the field's type where the field names its values.
    mutating func literal(for field: String, _ type: FieldType) throws(PredicateError) -> FanPredicate.Literal {
        let t = next()
        switch (t.kind, type) {
        case (.number, .int):
            return .int(Int64(t.text) ?? 0)
        case (.word, .bool) where ["true", "false"].contains(t.text.lowercased()):
            return .name(t.text.lowercased())
        case (.word, .ordered(let names)), (.word, .names(let names)), (.string, .ordered(let names)), (.string, .names(let names)):
            guard names.contains(t.text) else {
                let suggestion = Self.closest(to: t.text, among: names)
                throw error(at: t, "'\(t.text)' is not a value of \(field)",
                            hint: suggestion.map { "did you mean '\($0)'?" } ?? "one of \(names.joined(separator: ", "))")
            }
            return .name(t.text)
        case (.string, .text):
            return .text(t.text)
        default:
            let expected = switch type {
            case .int: "a whole number"
            case .bool: "true or false"
            case .text: "a quoted string"
            case .time: "a date or a duration (use before, after or within)"
            case .ordered(let names), .names(let names): "one of \(names.joined(separator: ", "))"
            case .set: "a name"
            }
            throw error(at: t, "'\(field)' takes \(expected), not '\(t.text)'")
        }
    }

    static let keywords: Set<String> = ["and", "or", "not", "in", "between", "within", "before", "after", "matches", "has"]

    static let timeFields = FanField.all.filter { $0.value.type == .time }.keys.sorted().joined(separator: ", ")

    static func seconds(_ duration: String) -> Int64? {
        guard let unit = duration.last, let n = Int64(duration.dropLast()), n >= 0 else { return nil }
        let unitSeconds: Int64
        switch unit {
        case "h": unitSeconds = 3_600
        case "d": unitSeconds = 86_400
        case "w": unitSeconds = 7 * 86_400
        case "m": unitSeconds = 30 * 86_400
        default: return nil
        }
        // A window longer than a century is a typo, and a product that would overflow.
        let seconds = n.multipliedReportingOverflow(by: unitSeconds)
        guard !seconds.overflow, seconds.partialValue <= 100 * 366 * 86_400 else { return nil }
        return seconds.partialValue
    }

    /// The candidate within two edits of `word`, for "did you mean".
    static func closest(to word: String, among candidates: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in 1...max(b.count, 1) where !b.isEmpty {
                    let current = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = current
                }
            }
            return row[b.count]
        }
        let target = Array(word.lowercased())
        return candidates.map { ($0, distance(target, Array($0))) }.filter { $0.1 <= 2 }.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }
}
