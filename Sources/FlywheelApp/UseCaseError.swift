import FlywheelDomain
import FlywheelStore
import Foundation

/// Why a use case refused: what the API answers as 400, 403, 404 or 409 and the console shows in place.
public enum UseCaseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field is wrong: names it and says what to send instead.
    case invalid(field: String, String)
    case notFound(String)
    case conflict(code: String, String)
    /// The table lets the caller's role do the operation, but not to this target (a user of a
    /// higher role, a role above the caller's own): says what is allowed instead.
    case forbidden(String)

    public var description: String {
        switch self {
        case .invalid(let field, let message): "\(field): \(message)"
        case .notFound(let what): "\(what) not found"
        case .conflict(_, let message), .forbidden(let message): message
        }
    }
}

/// Checks of values that come from people, shared by every use case.
public enum Validate {
    /// A display name: trimmed, 1 to 200 characters as the databases count them (code points), so a
    /// name the API accepts is one the database takes too.
    public static func name(_ text: String, field: String) throws(UseCaseError) -> String {
        try trimmed(text, field: field, length: 1...200)
    }

    /// Text trimmed of surrounding spaces, its length checked before trimming too, as the API's
    /// schema counts it (code points), and after.
    public static func trimmed(_ text: String, field: String, length: ClosedRange<Int>) throws(UseCaseError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.unicodeScalars.count <= length.upperBound, length.contains(trimmed.unicodeScalars.count) else {
            throw .invalid(field: field, "must be \(length.lowerBound) to \(length.upperBound) characters")
        }
        return trimmed
    }

    /// Identifiers issued by the platform: non-empty, no spaces, at most 200 characters.
    public static func token(_ text: String, field: String) throws(UseCaseError) -> String {
        guard (1...200).contains(text.unicodeScalars.count), !text.contains(where: \.isWhitespace) else {
            throw .invalid(field: field, "must be 1 to 200 characters without spaces")
        }
        return text
    }

    /// A condition in the predicate language (an audience, a threshold, an eligibility): trimmed;
    /// nil when empty; refused, with the parser's reason and an example, when it does not parse.
    public static func predicate(_ text: String?, field: String, example: String) throws(UseCaseError) -> String? {
        guard let text else { return nil }
        guard text.unicodeScalars.count <= FanPredicate.maxTextLength else {
            throw .invalid(field: field, "must be at most \(FanPredicate.maxTextLength) characters")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        do {
            _ = try FanPredicate.parse(trimmed)
        } catch {
            throw .invalid(field: field, "\(error.description) (for example: \(example))")
        }
        return trimmed
    }

    /// A post's or a campaign's holdout share: 0 (none, when absent) to 50 %.
    public static func holdout(_ percent: Int?) throws(UseCaseError) -> Int {
        guard let percent else { return 0 }
        guard Journey.holdoutRange.contains(percent) else { throw UseCaseError.invalid(field: "holdoutPercent", "must be 0 to 50") }
        return percent
    }

    /// A period that starts at `start` (now when absent) and ends at `end`, in the future: its
    /// start as given or now; refused naming the field that is out of place.

    public static func period(_ start: Int64?, _ end: Int64, now: Int64, fields: (start: String, end: String)) throws(UseCaseError) -> Int64 {
        let from = start ?? now
        guard (EventBounds.earliest..<EventBounds.latest).contains(from) else { throw .invalid(field: fields.start, "must be between 2000 and 2100") }
        guard end > max(from, now), end < EventBounds.latest else {
            throw .invalid(field: fields.end, "must be after \(fields.start) and in the future, before 2100")
        }
        return from
    }

    /// The tenant a request acts on: the caller's own, or one it manages (`reachable`).
    public static func tenant(_ requested: String?, caller: Principal, reachable: [String]) throws(UseCaseError) -> String {
        guard let requested else { return caller.tenantId }
        guard reachable.contains(requested) else { throw .notFound("tenant \(requested)") }
        return requested
    }
}
