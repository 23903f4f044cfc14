/// FNV-1a, 64 bits: a hash that is the same on every machine and in every release, for what is
/// stored and compared again later (migrations' checksums, SQLite's index of event ids). Never
/// change it: stored hashes would stop matching.
public func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return hash
}
