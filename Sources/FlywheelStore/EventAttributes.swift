import Foundation

/// How an event's `attributes` are stored: a JSON object with sorted keys, or nothing when empty.
public enum EventAttributes {
    public static func encode(_ attributes: [String: String]) -> String? {
        guard !attributes.isEmpty, let data = try? JSONSerialization.data(withJSONObject: attributes, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
    }
}
