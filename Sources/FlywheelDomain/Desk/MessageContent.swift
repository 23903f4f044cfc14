import Foundation

/// What a DM or group message from the account carries: the platform's message types.
public enum MessageContent: Sendable, Equatable, Hashable {
    /// msg_type 1; at most 500 characters.
    case text(String)
    /// msg_type 2, an uploaded image.
    case image(mediaId: String)
    /// msg_type 3, one of the account's videos.
    case video(itemId: String)
    /// msg_type 8.
    case leadCard(cardId: String)
    /// msg_type 9; not to a group.
    case groupInvitation(groupId: String)
    /// msg_type 11.
    case coupon(activityId: String, couponMetaId: String)

    public var msgType: Int {
        switch self {
        case .text: 1
        case .image: 2
        case .video: 3
        case .leadCard: 8
        case .groupInvitation: 9
        case .coupon: 11
        }
    }

    /// The longest text the platform sends.
    public static let maxText = 500
    /// Bytes in a media, item, card, group or coupon id.
    public static let maxIdLength = 200

    /// The name the API and the stored messages use for the type.
    public var typeName: String {
        switch self {
        case .text: "text"
        case .image: "image"
        case .video: "video"
        case .leadCard: "lead_card"
        case .groupInvitation: "group_invitation"
        case .coupon: "coupon"
        }
    }

    /// The text of a text message, nil otherwise.
    public var text: String? { if case .text(let text) = self { text } else { nil } }

    /// What a non-text message refers to; a coupon's two ids joined by `|`.
    public var ref: String? {
        switch self {
        case .text: nil
        case .image(let id), .video(let id), .leadCard(let id), .groupInvitation(let id): id
        case .coupon(let activityId, let couponMetaId): activityId + "|" + couponMetaId
        }
    }

    /// Content from its stored or API form (`typeName`, `text`, `ref`), checked; throws the field
    /// at fault, under `field` (as `reply.text`; `text` alone when `field` is empty).
    public init(typeName: String, text: String?, ref: String?, field: String) throws(EventProblem) {
        let field = field.isEmpty ? "" : field + "."
        func id(_ name: String) throws(EventProblem) -> String {
            guard let ref, (1...Self.maxIdLength).contains(ref.utf8.count), !ref.contains(where: { $0.isNewline || $0 == "|" }) else {
                throw EventProblem(field: "\(field)\(name)", "must be 1 to \(Self.maxIdLength) bytes without line breaks or '|'")
            }
            return ref
        }
        switch typeName {
        case "text":
            let text = text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard (1...Self.maxText).contains(text.count) else { throw EventProblem(field: "\(field)text", "must be 1 to \(Self.maxText) characters") }
            self = .text(text)
        case "image": self = .image(mediaId: try id("mediaId"))
        case "video": self = .video(itemId: try id("itemId"))
        case "lead_card": self = .leadCard(cardId: try id("cardId"))
        case "group_invitation": self = .groupInvitation(groupId: try id("groupId"))
        case "coupon":
            let parts = (ref ?? "").split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, parts.allSatisfy({ (1...Self.maxIdLength).contains($0.utf8.count) && !$0.contains(where: \.isNewline) }) else {
                throw EventProblem(field: "\(field)activityId", "a coupon needs an activityId and a couponMetaId, each 1 to \(Self.maxIdLength) bytes")
            }
            self = .coupon(activityId: parts[0], couponMetaId: parts[1])
        default:
            throw EventProblem(field: "\(field)type", "must be text, image, video, lead_card, group_invitation or coupon")
        }
    }
}
