import FlywheelDomain

/// The segment editor for people who do not read grammars: values typed in the page's words
/// (`商域` as well as `commercial`), errors in the reader's language, and the field list as help.
extension Language {
    /// `text` with every value word of either language outside quotes replaced by its code:
    /// tiers, domains and channels as the console shows them.
    static func canonicalPredicate(_ text: String) -> String {
        var words: [(String, String)] = []
        for language in Language.allCases {
            words += Tier.allCases.map { (language.tier($0), $0.name) }
            words += SourceDomain.allCases.map { (language.domain($0), $0.rawValue) }
            words += Channel.allCases.map { (language.channel($0), $0.rawValue) }
        }
        // Longest first, so "公域推荐" is not read as "公域" and the rest; codes stay as they are.
        let replacements = words.filter { $0.0 != $0.1 && $0.0.contains(where: { !$0.isASCII }) }.sorted { $0.0.count > $1.0.count }
        // Quoted names (tags, interests) are the operator's own words: left alone.
        return text.split(separator: "\"", omittingEmptySubsequences: false).enumerated().map { i, part in
            guard i % 2 == 0 else { return String(part) }
            var part = String(part)
            for (word, code) in replacements { part = part.replacingOccurrences(of: word, with: code) }
            return part
        }.joined(separator: "\"")
    }

    /// A parse error in the reader's words, with where it is.
    func predicateError(_ error: PredicateError) -> String {
        guard self == .zh else { return error.description }
        return "第 \(error.line) 行第 \(error.column) 列：" + Self.chinese(error.message) + (error.hint.map { "；" + Self.chinese($0) } ?? "")
    }

    /// The parser's messages, pattern by pattern; a message without a pattern stays as written.
    static func chinese(_ message: String) -> String {
        let patterns: [(String, String)] = [
            (#"^unknown field '(.+)'$"#, "没有字段 '$1'"),
            (#"^did you mean '(.+)'\?$"#, "是否想写 '$1'？"),
            (#"^see docs/predicates.md for the fields$"#, "可用字段见下方“字段说明”"),
            (#"^expected a field but found '(.*)'$"#, "此处应为字段，却是 '$1'"),
            (#"^for example: (.+)$"#, "例如：$1"),
            (#"^unexpected '(.*)'$"#, "多余的 '$1'"),
            (#"^join conditions with 'and' or 'or'$"#, "条件之间请用 and 或 or 连接"),
            (#"^expected '(.*)' but found '(.*)'$"#, "此处应为 '$1'，却是 '$2'"),
            (#"^unterminated string$"#, "引号没有闭合"),
            (#"^close it with (.+)$"#, "请用 $1 闭合"),
            (#"^unexpected character '(.+)'$"#, "无法识别的字符 '$1'"),
            (#"^'(.+)' is not a number or a date$"#, "'$1' 不是数字也不是日期"),
            (#"^write dates as YYYY-MM-DD$"#, "日期请写成 YYYY-MM-DD"),
            (#"^'(.+)' is a time$"#, "'$1' 是时间"),
            (#"^use within 30d, before 2026-01-01 or after 2026-01-01$"#, "请用 within 30d、before 2026-01-01 或 after 2026-01-01"),
            (#"^'(.+)' has no order$"#, "'$1' 没有大小顺序"),
            (#"^use = or != \(or in \(\.\.\.\)\)$"#, "请用 = 或 !=（或 in (...)）"),
            (#"^'(.+)' is a set of names$"#, "'$1' 是名称集合"),
            (#"^use (.+) has "name"(.*)$"#, "请用 $1 has \"名称\""),
            (#"^'(.+)' is not a set$"#, "'$1' 不是集合"),
            (#"^has applies to tags, interests, groups$"#, "has 只用于 tags、interests、groups"),
            (#"^'(.+)' is not a time$"#, "'$1' 不是时间"),
            (#"^expected a duration such as 30d but found '(.*)'$"#, "此处应为时长（如 30d），却是 '$1'"),
            (#"^units: h, d, w, m \(30 days\)$"#, "单位：h 小时、d 天、w 周、m 月（30 天）"),
            (#"^expected a date such as 2026-01-01 but found '(.*)'$"#, "此处应为日期（如 2026-01-01），却是 '$1'"),
            (#"^expected a quoted pattern$"#, "此处应为带引号的正则表达式"),
            (#"^'(.+)' is not a value of (.+)$"#, "'$1' 不是 $2 的可选值"),
            (#"^one of (.+)$"#, "可选值：$1"),
            (#"^(within|before|after) applies to (.+)$"#, "$1 只用于 $2"),
        ]
        for (pattern, template) in patterns {
            if let regex = try? Regex(pattern), let match = message.wholeMatch(of: regex) {
                var text = template
                for i in (1..<match.output.count).reversed() {
                    text = text.replacingOccurrences(of: "$\(i)", with: match.output[i].substring.map(String.init) ?? "")
                }
                return text
            }
        }
        return message
    }

    /// One line of help per field: its name, what it holds and an example, values in the reader's words.
    func fieldHelp() -> [FieldHelp.Field] {
        FanField.all.keys.sorted().compactMap { field in
            guard let type = FanField.all[field]?.type else { return nil }
            switch type {
            case .int: return .init(name: field, kind: pick("number", "数字"), example: "\(field) >= 3")
            case .bool: return .init(name: field, kind: pick("yes or no", "是或否"), example: field)
            case .text: return .init(name: field, kind: pick("text", "文本"), example: field == "nickname" ? "nickname matches \"^王\"" : "\(field) = \"…\"")
            case .time: return .init(name: field, kind: pick("time", "时间"), example: "\(field) within 30d")
            case .set: return .init(name: field, kind: pick("set of names", "名称集合"), example: "\(field) has \"…\"")
            case .ordered(let names), .names(let names):
                return .init(name: field, kind: pick("one of: ", "可选：") + names.map { value($0, of: field) }.joined(separator: ", "),
                             example: "\(field) = \(value(names.first ?? "", of: field))")
            }
        }
    }

    /// A value as the reader would type it: in Chinese the console's word where it has one.
    func value(_ name: String, of field: String) -> String {
        guard self == .zh else { return name }
        return switch field {
        case "tier": Tier(name: name).map(tier) ?? name
        case "first_domain", "latest_domain": SourceDomain(rawValue: name).map(domain) ?? name
        case "first_channel", "latest_channel": Channel(rawValue: name).map(channel) ?? name
        default: name
        }
    }
}

/// The segment editors' help (the `fieldhelp` partial): every field with what it holds and an
/// example, and their names for the suggestions while typing.
struct FieldHelp {
    struct Field { var name: String; var kind: String; var example: String }
    var fields: [Field]
    var names: String

    init(_ t: Language) {
        fields = t.fieldHelp()
        names = FanField.all.keys.sorted().joined(separator: " ")
    }
}
