extension Duration {
    /// The duration in milliseconds, with their fraction: how timings are reported.
    public var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
