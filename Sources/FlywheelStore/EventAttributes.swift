import FlywheelDomain
import Foundation

/// How an event's `attributes` are stored: a JSON object of strings with sorted keys, or nothing
/// when empty. Read and written byte by byte: every logged event passes through here.
public enum EventAttributes {
    public static func encode(_ attributes: [String: String]) -> String? {
        attributes.isEmpty ? nil : JSONText.object(attributes)
    }

    /// The stored object. Text in another form (a row written by another tool: a repeated key,
    /// a number) goes through Foundation's reader, as it always did; empty if that refuses it too.
    public static func decode(_ text: String) -> [String: String] {
        var reader = JSONBytesReader(Array(text.utf8))
        if let values = reader.strings(), reader.atEnd { return values }
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
    }
}
