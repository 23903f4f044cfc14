import FlywheelDomain

/// A stored value, as both stores bind and read it.
public enum Cell: Sendable, Equatable {
    case int(Int64)
    case text(String)
    case null
}

/// The `fans` table's columns after `tenant_id, account_id`, in order, and the mapping between
/// a row and a `FanState`: one definition for every store.
public enum FanColumns {
    public static let names: [String] = [
        "open_id", "nickname", "first_seen_at", "last_active_at", "first_domain", "first_channel",
        "latest_domain", "latest_channel", "following", "followed_at", "follow_changed_at",
    ] + FanCounters.fields.map(\.name) + ["gmv", "intimacy", "level", "ledger", "tier", "tier_changed_at", "last_ordered_at"]
        + profileNames + ["interests", "profile_changed_at", "tags", "fan_groups"]

    /// The profile's single-valued attributes, each a nullable text column of the same name.
    static let profileNames = FanProfile.attributeNames

    /// Text columns that may be NULL (an absent value); the other text columns never are.
    public static let nullableTextNames: Set<String> = Set(["nickname"] + profileNames)

    /// Columns holding text; every other column holds an integer.
    public static let textNames: Set<String> = Set(["open_id", "nickname", "first_domain", "first_channel", "latest_domain", "latest_channel",
                                                    "ledger", "interests", "tags", "fan_groups"] + profileNames)

    public static func cells(of fan: FanState) -> [Cell] {
        var cells = CellList()
        write(fan, to: &cells)
        return cells.cells
    }

    /// Hands each column's value to `sink` in `names` order: the one mapping from a fan to a row,
    /// for a list of cells or straight into a statement's parameters.
    public static func write(_ fan: FanState, to sink: inout some FanRowSink) {
        sink.text(fan.openId)
        sink.text(fan.nickname)
        sink.int(fan.firstSeenAt)
        sink.int(fan.lastActiveAt)
        sink.text(fan.firstDomain.rawValue)
        sink.text(fan.firstChannel.rawValue)
        sink.text(fan.latestDomain.rawValue)
        sink.text(fan.latestChannel.rawValue)
        sink.int(fan.following ? 1 : 0)
        sink.int(fan.followedAt)
        sink.int(fan.followChangedAt)
        for value in fan.counters.values { sink.int(Int64(value)) }
        sink.int(Int64(fan.gmv))
        sink.int(Int64(fan.intimacy))
        sink.int(Int64(fan.level))
        sink.text(fan.ledger.encoded)
        sink.int(Int64(fan.tier.rawValue))
        sink.int(fan.tierChangedAt)
        sink.int(fan.lastOrderedAt)
        for value in fan.profile.attributeValues { sink.text(value) }
        sink.text(SetColumn.encode(fan.profile.interests))
        sink.int(fan.profile.changedAt)
        sink.text(SetColumn.encode(fan.tags))
        sink.text(SetColumn.encode(groups: fan.groups))
    }

    /// Reads a row given as cells in `names` order.
    public static func fan(from cells: [Cell]) throws -> FanState {
        var reader = CellReader(cells: cells)
        let openId = try reader.text("open_id")
        let nickname = reader.optionalText()
        let firstSeenAt = try reader.int("first_seen_at")
        let lastActiveAt = try reader.int("last_active_at")
        let firstDomain = try reader.value("first_domain", SourceDomain.init(rawValue:))
        let firstChannel = try reader.value("first_channel", Channel.init(rawValue:))
        let latestDomain = try reader.value("latest_domain", SourceDomain.init(rawValue:))
        let latestChannel = try reader.value("latest_channel", Channel.init(rawValue:))
        let following = try reader.int("following") != 0
        let followedAt = try reader.optionalInt()
        let followChangedAt = try reader.int("follow_changed_at")
        var counters = FanCounters()
        for field in FanCounters.fields { counters[keyPath: field.keyPath] = Int32(clamping: try reader.int(field.name)) }
        let gmv = Int(try reader.int("gmv"))
        let intimacy = Int(try reader.int("intimacy"))
        let level = Int(try reader.int("level"))
        let ledger = IntimacyLedger(encoded: try reader.text("ledger"))
        let tier = try reader.value("tier") { Tier(rawValue: Int($0) ?? -1) }
        let tierChangedAt = try reader.int("tier_changed_at")
        let lastOrderedAt = try reader.optionalInt()
        var profile = FanProfile()
        profile.attributeValues = profileNames.map { _ in reader.optionalText() }
        profile.interests = SetColumn.names(in: try reader.text("interests"))
        profile.changedAt = try reader.int("profile_changed_at")
        let tags = SetColumn.names(in: try reader.text("tags"))
        let groups = try SetColumn.groups(in: try reader.text("fan_groups"))
        return FanState(
            openId: openId, nickname: nickname, firstSeenAt: firstSeenAt, lastActiveAt: lastActiveAt,
            firstDomain: firstDomain, firstChannel: firstChannel, latestDomain: latestDomain, latestChannel: latestChannel,
            following: following, followedAt: followedAt, followChangedAt: followChangedAt, counters: counters, gmv: gmv,
            intimacy: intimacy, level: level, ledger: ledger, tier: tier, tierChangedAt: tierChangedAt,
            lastOrderedAt: lastOrderedAt, profile: profile, tags: tags, groups: groups)
    }
}

/// How set fields are stored in one text column: `,a,b,` (sorted), so that SQL can test for one
/// name with a substring search (`PredicateSQL`); groups as `,id=+time,` (member) or `,id=-time,` (left).
public enum SetColumn {
    public static func encode(_ names: Set<String>) -> String {
        names.isEmpty ? "" : "," + names.sorted().joined(separator: ",") + ","
    }

    public static func names(in text: String) -> Set<String> {
        Set(text.split(separator: ",").map(String.init))
    }

    public static func encode(groups: [String: GroupMembership]) -> String {
        groups.isEmpty ? "" : "," + groups.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.member ? "+" : "-")\($0.value.at)" }.joined(separator: ",") + ","
    }

    static func groups(in text: String) throws -> [String: GroupMembership] {
        var groups: [String: GroupMembership] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let sign = parts[1].first, let at = Int64(parts[1].dropFirst()) else {
                throw StoreError.corrupt("fans.fan_groups has an unreadable entry '\(item)'")
            }
            groups[String(parts[0])] = GroupMembership(member: sign == "+", at: at)
        }
        return groups
    }

    /// What a `has` condition searches the column for.
    public static func needle(field: String, name: String) -> String {
        field == "groups" ? ",\(name)=+" : ",\(name),"
    }
}

/// Takes a fan's column values in order (`FanColumns.write`); nil is NULL.
public protocol FanRowSink {
    mutating func int(_ value: Int64?)
    mutating func text(_ value: String?)
}

private struct CellList: FanRowSink {
    var cells: [Cell] = []
    mutating func int(_ value: Int64?) { cells.append(value.map(Cell.int) ?? .null) }
    mutating func text(_ value: String?) { cells.append(value.map(Cell.text) ?? .null) }
}

/// Reads cells in order, naming the column when one is not what the schema promises.
struct CellReader {
    let cells: [Cell]
    var index = 0

    mutating func next() -> Cell {
        defer { index += 1 }
        return index < cells.count ? cells[index] : .null
    }

    mutating func int(_ column: String) throws -> Int64 {
        guard case .int(let v) = next() else { throw StoreError.corrupt("fans.\(column) is not an integer") }
        return v
    }

    mutating func text(_ column: String) throws -> String {
        guard case .text(let v) = next() else { throw StoreError.corrupt("fans.\(column) is not text") }
        return v
    }

    mutating func optionalText() -> String? {
        if case .text(let v) = next() { return v }
        return nil
    }

    mutating func optionalInt() throws -> Int64? {
        if case .int(let v) = next() { return v }
        return nil
    }

    mutating func value<T>(_ column: String, _ make: (String) -> T?) throws -> T {
        let raw: String
        switch next() {
        case .text(let s): raw = s
        case .int(let i): raw = String(i)
        case .null: throw StoreError.corrupt("fans.\(column) is null")
        }
        guard let v = make(raw) else { throw StoreError.corrupt("fans.\(column) has unknown value '\(raw)'") }
        return v
    }
}
