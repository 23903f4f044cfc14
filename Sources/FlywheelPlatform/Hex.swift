extension Sequence<UInt8> {
    /// Lowercase hexadecimal, two digits a byte: how digests are written in signatures and ids.
    /// Inlinable, so each caller walks its own bytes without a call a byte (an import's content
    /// ids spent half their time here).
    @inlinable public var hex: String {
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            let high = byte >> 4, low = byte & 0x0F
            // 0-9 from "0" (48), a-f from "a" (97 = 87 + 10).
            out.append(high < 10 ? 48 + high : 87 + high)
            out.append(low < 10 ? 48 + low : 87 + low)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
