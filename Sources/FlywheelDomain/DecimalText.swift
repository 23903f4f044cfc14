/// Integers written as decimal text digit by digit, for the compact lists stored with every
/// changed fan and batch (the intimacy ledger, a fan's runs of events), where string
/// interpolation and `joined` showed in profiles.
public struct DecimalText {
    private var bytes: [UInt8] = []

    public init() {}

    public mutating func append(_ n: Int64) {
        if n < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = n.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[start...].reverse()
    }

    public mutating func append(_ separator: Unicode.Scalar) { bytes.append(UInt8(ascii: separator)) }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
