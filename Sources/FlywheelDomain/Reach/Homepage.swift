/// What an account's homepage should offer (the white paper's homepage touchpoint), as a checklist.
public enum HomepageItem: String, Sendable, CaseIterable, Codable {
    case enterpriseInfo = "enterprise_info"
    case groupEntry = "group_entry"
    case liveSchedule = "live_schedule"
    case consultEntry = "consult_entry"
    case leadCard = "lead_card"
    case businessTemplate = "business_template"

    /// Items Flywheel can tell from what it manages: an active fan group, a live schedule, lead
    /// cards submitted from the homepage. The others the operator ticks after setting them up in the app.
    public var detected: Bool {
        switch self {
        case .groupEntry, .liveSchedule, .leadCard: true
        case .enterpriseInfo, .consultEntry, .businessTemplate: false
        }
    }
}
