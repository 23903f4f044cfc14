/// The running parts of Flywheel over one environment: what `serve`, the CLI and the tests share.
public struct Flywheel: Sendable {
    public let env: FlywheelEnvironment
    public let tenancy: Tenancy
    public let ingest: Ingest
    public let projector: Projector
    public let segmentClock: SegmentClock
    public let tagging: Tagging
    public let lookalike: Lookalike
    public let fanScan: FanScan
    public let signIn: ConsoleSignIn
    public let tokenRefresher: TokenRefresher

    public init(_ env: FlywheelEnvironment, projectionBatchSize: Int = 20_000) {
        self.env = env
        tenancy = Tenancy(env)
        ingest = Ingest(env)
        projector = Projector(env, batchSize: projectionBatchSize)
        segmentClock = SegmentClock(env)
        tagging = Tagging(env)
        lookalike = Lookalike(env)
        fanScan = FanScan(store: env.store)
        signIn = ConsoleSignIn(env)
        tokenRefresher = TokenRefresher(env)
    }
}
