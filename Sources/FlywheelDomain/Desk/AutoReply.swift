import Foundation

/// An automatic reply of one account: the welcome when a fan opens the thread, or an answer to
/// messages with a keyword.
public struct AutoReplyRule: Sendable, Equatable {
    public enum Trigger: Sendable, Equatable {
        /// The fan opened the thread (at most once a day per fan).
        case welcome
        /// The fan's text equals the pattern (letter case and surrounding space ignored).
        case exact(String)
        /// The fan's text contains the pattern (letter case ignored).
        case contains(String)
        /// The fan's text matches the regular expression.
        case regex(String)
        /// The fan tapped this item of the DM menu (its label comes as the fan's text). The menu
        /// itself is set in the platform's app, which has no open API for it: the same labels there.
        case menu(String)

        public var name: String {
            switch self {
            case .welcome: "welcome"
            case .exact: "exact"
            case .contains: "contains"
            case .regex: "regex"
            case .menu: "menu"
            }
        }

        public var pattern: String? {
            switch self {
            case .welcome: nil
            case .exact(let p), .contains(let p), .regex(let p), .menu(let p): p
            }
        }

        /// A trigger from its name and pattern, checked (a regular expression must compile).
        public init(name: String, pattern: String?) throws(EventProblem) {
            if name == "welcome" {
                self = .welcome
                return
            }
            let pattern = pattern?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard (1...AutoReplyRule.maxPattern).contains(pattern.count) else {
                throw EventProblem(field: "pattern", "a \(name) rule needs a pattern of 1 to \(AutoReplyRule.maxPattern) characters")
            }
            switch name {
            case "exact": self = .exact(pattern)
            case "contains": self = .contains(pattern)
            case "menu": self = .menu(pattern)
            case "regex":
                guard TextPattern(pattern) != nil else { throw EventProblem(field: "pattern", "is not a valid regular expression") }
                self = .regex(pattern)
            default: throw EventProblem(field: "trigger", "must be welcome, exact, contains, regex or menu")
            }
        }
    }

    /// When a rule answers.
    public enum Hours: String, Sendable, CaseIterable, Codable {
        case always
        case business = "business_hours"
        case outside = "outside_business_hours"
    }

    public var id: String
    public var accountId: String
    public var name: String
    public var trigger: Trigger
    /// Among rules that match, the highest priority answers (then the oldest).
    public var priority: Int
    public var hours: Hours
    public var reply: MessageContent
    public var enabled: Bool
    public var createdAt: Int64

    public init(id: String, accountId: String, name: String, trigger: Trigger, priority: Int, hours: Hours, reply: MessageContent,
                enabled: Bool, createdAt: Int64) {
        self.id = id
        self.accountId = accountId
        self.name = name
        self.trigger = trigger
        self.priority = priority
        self.hours = hours
        self.reply = reply
        self.enabled = enabled
        self.createdAt = createdAt
    }

    public static let maxPattern = 200
    public static let priorities = -1_000...1_000
    /// Rules an account may have.
    public static let maxPerAccount = 200
}

/// An account's rules made ready to answer many messages: in the order they are tried, regular
/// expressions compiled once.
public struct AutoReplies: Sendable {
    let keyword: [(rule: AutoReplyRule, pattern: TextPattern?)]
    let welcome: [AutoReplyRule]

    public init(_ rules: [AutoReplyRule]) {
        let ordered = rules.filter(\.enabled).sorted { ($0.priority, -$0.createdAt, $0.id) > ($1.priority, -$1.createdAt, $1.id) }
        welcome = ordered.filter { $0.trigger == .welcome }
        keyword = ordered.compactMap { rule in
            switch rule.trigger {
            case .welcome: nil
            case .regex(let p): TextPattern(p).map { (rule, $0) }
            case .exact, .contains, .menu: (rule, nil)
            }
        }
    }

    /// The rule that answers the fan's `text` at a time when the business is open or not.
    public func answer(_ text: String, open: Bool) -> AutoReplyRule? {
        let folded = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return keyword.first { rule, pattern in
            guard rule.hours.applies(open: open) else { return false }
            switch rule.trigger {
            case .exact(let p), .menu(let p): return folded == p.lowercased()
            case .contains(let p): return folded.contains(p.lowercased())
            case .regex: return pattern?.matches(text) ?? false
            case .welcome: return false
            }
        }?.rule
    }

    /// The welcome that answers a fan opening the thread.
    public func welcome(open: Bool) -> AutoReplyRule? { welcome.first { $0.hours.applies(open: open) } }
}

extension AutoReplyRule.Hours {
    func applies(open: Bool) -> Bool {
        switch self {
        case .always: true
        case .business: open
        case .outside: !open
        }
    }
}
