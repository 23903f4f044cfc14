import FlywheelDomain

/// How an event's `attributes` are stored: a JSON object of strings with sorted keys, or nothing
/// when empty. Read and written byte by byte: every logged event passes through here.
public enum EventAttributes {
    public static func encode(_ attributes: [String: String]) -> String? {
        attributes.isEmpty ? nil : JSONText.object(attributes)
    }

    /// The stored object; empty for text that is not one (a row written by another tool).
    public static func decode(_ text: String) -> [String: String] {
        var reader = JSONBytesReader(Array(text.utf8))
        guard let values = reader.strings(), reader.atEnd else { return [:] }
        return values
    }
}
