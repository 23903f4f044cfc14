import FlywheelDomain
import FlywheelStore
import Foundation
import Hummingbird

/// JSON shapes of the API (see openapi.json). Times are ISO 8601 in UTC; money is in fen.
enum Time {
    static func iso(_ ms: Int64) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(ms) / 1000)
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// An ISO 8601 date-time with its offset (`2026-12-31T23:59:59Z`, fractional seconds allowed), in ms.
    static func parse(_ text: String) -> Int64? {
        for style in [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()] {
            if let date = try? style.parse(text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }

    /// An optional date-time field of a request body, in ms; a 400 naming `field` when it does not read.
    static func parse(_ text: String?, field: String) throws -> Int64? {
        guard let text else { return nil }
        guard let ms = parse(text) else { throw APIError.invalid(field, "must be an ISO 8601 date-time such as 2026-12-31T19:00:00+08:00") }
        return ms
    }
}

struct AccountView: ResponseEncodable {
    var id: String
    var tenantId: String
    var name: String
    var appId: String
    var openId: String
    var timeZone: String
    var createdAt: String

    init(_ a: Account) {
        id = a.id; tenantId = a.tenantId; name = a.name; appId = a.appId; openId = a.openId; timeZone = a.timeZone
        createdAt = Time.iso(a.createdAt)
    }
}

struct AppView: ResponseEncodable {
    var id: String
    var tenantId: String
    var name: String
    var clientKey: String
    var createdAt: String

    init(_ a: PlatformApp) {
        id = a.id; tenantId = a.tenantId; name = a.name; clientKey = a.clientKey; createdAt = Time.iso(a.createdAt)
    }
}

struct UserView: ResponseEncodable {
    var id: String
    var tenantId: String
    var name: String
    var role: Role
    /// `active`, or `disabled` (its keys and sessions refused).
    var state: String
    var createdAt: String
    var disabledAt: String?

    init(_ u: User) {
        id = u.id; tenantId = u.tenantId; name = u.name; role = u.role; state = u.isDisabled ? "disabled" : "active"
        createdAt = Time.iso(u.createdAt); disabledAt = u.disabledAt.map(Time.iso)
    }
}

/// An API key without its secret (shown once, when issued).
struct KeyView: ResponseEncodable {
    var id: String
    var tenantId: String
    var userId: String
    /// `active`, `expired` or `revoked`.
    var state: String
    var createdAt: String
    var expiresAt: String?
    var revokedAt: String?

    init(_ k: APIKeyRecord, now: Int64) {
        id = k.id; tenantId = k.tenantId; userId = k.userId; state = k.state(at: now).rawValue; createdAt = Time.iso(k.createdAt)
        expiresAt = k.expiresAt.map(Time.iso); revokedAt = k.revokedAt.map(Time.iso)
    }
}

struct TenantView: ResponseEncodable {
    var id: String
    var name: String
    var kind: Tenant.Kind
    var providerId: String?
    var createdAt: String
    /// The playbook its accounts follow, once chosen.
    var industry: String?

    init(_ t: Tenant) {
        id = t.id; name = t.name; kind = t.kind; providerId = t.providerId; createdAt = Time.iso(t.createdAt); industry = t.industry?.rawValue
    }
}

struct FanView: ResponseEncodable {
    var openId: String
    var nickname: String?
    var tier: Tier
    var level: Int
    var intimacy: Int
    var pointsToday: Int
    var following: Bool
    var followedAt: String?
    var firstSeenAt: String
    var lastActiveAt: String?
    var firstDomain: SourceDomain
    var firstChannel: Channel
    var latestDomain: SourceDomain
    var latestChannel: Channel
    var gmvFen: Int
    var tierChangedAt: String
    var lastOrderedAt: String?
    /// Keyed by the counters' field names.
    var counters: [String: Int]
    var tags: [String]
    /// The profile's attributes that are known, by field name (gender, age_band, region, city, device, phone).
    var profile: [String: String]
    var interests: [String]
    /// Fan groups the fan is in now.
    var groups: [String]

    init(_ f: FanState) {
        openId = f.openId; nickname = f.nickname; tier = f.tier; level = f.level; intimacy = f.intimacy
        pointsToday = Int(f.ledger.days.last?.points ?? 0)
        following = f.following; followedAt = f.followedAt.map(Time.iso); firstSeenAt = Time.iso(f.firstSeenAt)
        lastActiveAt = f.lastActiveAt > 0 ? Time.iso(f.lastActiveAt) : nil
        firstDomain = f.firstDomain; firstChannel = f.firstChannel; latestDomain = f.latestDomain; latestChannel = f.latestChannel
        gmvFen = f.gmv; tierChangedAt = Time.iso(f.tierChangedAt)
        counters = Dictionary(uniqueKeysWithValues: FanCounters.fields.map { ($0.name, Int(f.counters[keyPath: $0.keyPath])) })
        lastOrderedAt = f.lastOrderedAt.map(Time.iso)
        tags = f.tags.sorted()
        profile = Dictionary(uniqueKeysWithValues: zip(FanProfile.attributeNames, f.profile.attributeValues).compactMap { name, value in value.map { (name, $0) } })
        interests = f.profile.interests.sorted()
        groups = f.groups.filter(\.value.member).keys.sorted()
    }
}

struct EventView: ResponseEncodable {
    var seq: Int64
    var id: String
    var kind: EventKind
    var occurredAt: String
    var domain: SourceDomain
    var channel: Channel
    var amount: Int64
    var ref: String?
    var attributes: [String: String]

    init(_ s: StoredEvent) {
        let e = s.event
        seq = s.seq; id = e.id; kind = e.kind; occurredAt = Time.iso(e.occurredAt); domain = e.domain; channel = e.channel
        amount = e.amount; ref = e.ref; attributes = e.attributes
    }
}

struct PageView<Item: Encodable & Sendable>: ResponseEncodable {
    var items: [Item]
    var nextCursor: String?
}

/// A JSON body answered with 201 Created, or with another status (202 Accepted for work the
/// projector finishes).
struct Created<Body: Encodable & Sendable>: ResponseGenerator {
    var body: Body
    var status: HTTPResponse.Status = .created

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONEncoder().encode(body, from: request, context: context)
        response.status = status
        return response
    }
}

/// Opaque cursors: the base64url of the last key on the page.
enum Cursor {
    static func encode(_ key: String?) -> String? {
        key.map { Data($0.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") }
    }

    static func decode(_ text: String?) throws -> String? {
        guard let text else { return nil }
        let base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard let data = Data(base64Encoded: base64), let key = String(data: data, encoding: .utf8) else {
            throw APIError.invalid("cursor", "not a cursor this API returned; start again without one")
        }
        return key
    }
}

extension Response {
    /// A CSV download, as the API and the console both give it.
    static func csv(_ file: (csv: String, filename: String)) -> Response {
        Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(file.filename)\""],
                 body: .init(byteBuffer: ByteBuffer(string: file.csv)))
    }
}
