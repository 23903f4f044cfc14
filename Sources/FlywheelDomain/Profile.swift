import Foundation

/// Who the fan is, as far as the platform, lead cards and imports have told: the attributes
/// segments, portraits and lookalikes use. Each comes from the event attribute of the same name
/// (docs/events.md); the newest report wins, and an older one arriving late only fills a gap.
public struct FanProfile: Sendable, Equatable {
    public var gender: String?
    public var ageBand: String?
    public var region: String?
    public var city: String?
    public var device: String?
    /// From lead cards.
    public var phone: String?
    /// Every interest ever reported, kept.
    public var interests: Set<String> = []
    /// Time of the newest event that set an attribute.
    public var changedAt: Int64 = 0

    public init() {}

    public static let genders = ["female", "male"]
    public static let ageBands = ["18-23", "24-30", "31-40", "41-50", "50+"]
    public static let devices = ["android", "ios", "harmonyos", "other"]

    /// The single-valued attributes: event attribute and predicate field name, and where it is kept.
    static let attributes: [(name: String, keyPath: WritableKeyPath<FanProfile, String?> & Sendable, normalize: @Sendable (String) -> String?)] = [
        ("gender", \.gender, { raw in
            switch raw.lowercased() {
            case "female", "f", "2", "女": "female"
            case "male", "m", "1", "男": "male"
            default: nil
            }
        }),
        ("age_band", \.ageBand, { ageBands.contains($0) ? $0 : nil }),
        ("region", \.region, { $0 }),
        ("city", \.city, { $0 }),
        ("device", \.device, { raw in
            let lower = raw.lowercased()
            return devices.contains(lower) ? lower : "other"
        }),
        ("phone", \.phone, { raw in
            let digits = raw.filter(\.isNumber)
            return digits.count >= 5 ? digits : nil
        }),
    ]

    public static let attributeNames = attributes.map(\.name)

    /// The single-valued attributes in `attributeNames` order: how stores read and write them.
    public var attributeValues: [String?] {
        // Read directly, in `attributes` order: key paths cost more than the rest of saving a fan.
        get { [gender, ageBand, region, city, device, phone] }
        set { for (attribute, value) in zip(Self.attributes, newValue) { self[keyPath: attribute.keyPath] = value } }
    }

    /// Takes what `event` says about the fan.
    mutating func update(from event: FanEvent) {
        // Most events say nothing about who the fan is.
        guard !event.attributes.isEmpty else { return }
        let newer = event.occurredAt >= changedAt
        var changed = false
        for attribute in Self.attributes {
            guard let raw = event.attributes[attribute.name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty,
                  let value = attribute.normalize(raw), String(value.prefix(100)) == value else { continue }
            if newer || self[keyPath: attribute.keyPath] == nil {
                self[keyPath: attribute.keyPath] = value
                changed = true
            }
        }
        if let raw = event.attributes["interests"] {
            for interest in SetField.values(in: raw) where interests.count < 50 {
                changed = interests.insert(interest).inserted || changed
            }
        }
        if changed, newer { changedAt = event.occurredAt }
    }
}

/// A fan's membership of one fan group (粉丝群), with the time of the newest join or leave applied,
/// so an older one arriving late cannot undo it.
public struct GroupMembership: Sendable, Equatable {
    public var member: Bool
    public var at: Int64

    public init(member: Bool, at: Int64) {
        self.member = member
        self.at = at
    }
}

/// Names held in a set field (tags, interests, groups): how they are told apart in text.
public enum SetField {
    /// Characters a name may not hold: the stored form separates names with them.
    public static let separators: Set<Character> = [",", "="]

    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 50 && !name.contains(where: { separators.contains($0) || $0.isNewline })
    }

    /// The names in a comma-separated list, trimmed, the invalid ones dropped.
    public static func values(in list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter(isValidName)
    }
}
