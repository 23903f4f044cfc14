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
    public let desk: Desk
    public let outbox: OutboxDispatcher
    public let reach: Reach
    public let conversion: Conversion
    public let shopSync: ShopSync
    public let webhooks: WebhookDispatcher
    public let journeys: JourneyRunner

    /// Most events a projection batch takes: catching up goes in large batches (each fan written
    /// once a batch); live traffic comes in small ones anyway.
    public static let defaultProjectionBatch = 250_000

    public init(_ env: FlywheelEnvironment, projectionBatchSize: Int = defaultProjectionBatch, limits: FlywheelLimits = FlywheelLimits()) {
        self.env = env
        tenancy = Tenancy(env)
        ingest = Ingest(env, maxWaitingDeliveries: limits.waitingDeliveries)
        projector = Projector(env, batchSize: projectionBatchSize)
        segmentClock = SegmentClock(env)
        tagging = Tagging(env)
        lookalike = Lookalike(env)
        fanScan = FanScan(store: env.store)
        signIn = ConsoleSignIn(env, hasher: PasswordHasher(slots: limits.passwordHashers, maxWaiting: limits.waitingSignIns))
        tokenRefresher = TokenRefresher(env)
        desk = Desk(env)
        outbox = OutboxDispatcher(env, sendsPerSecond: limits.sendsPerSecond, lease: limits.sendLease)
        reach = Reach(env)
        conversion = Conversion(env)
        shopSync = ShopSync(env)
        webhooks = WebhookDispatcher(env)
        journeys = JourneyRunner(env)
    }
}

/// Bounds that keep a flood from taking the process down (`flywheel serve` sets them from its
/// flags). What is over a bound is refused at once, never queued without end.
public struct FlywheelLimits: Sendable, Equatable {
    /// Webhook deliveries that may wait for the next group commit; beyond it the webhook
    /// answers 503 with `Retry-After: 1` and the platform retries.
    public var waitingDeliveries: Int
    /// Password derivations run at once, on threads of their own.
    public var passwordHashers: Int
    /// Sign-ins that may wait for a hashing thread; beyond it sign-in answers 429.
    public var waitingSignIns: Int
    /// DMs each platform app sends a second, below the platform's limit.
    public var sendsPerSecond: Int
    /// How long (ms) a message handed to the platform may go unanswered before it is in doubt.
    public var sendLease: Int64

    public init(waitingDeliveries: Int = 10_000, passwordHashers: Int = PasswordHasher.defaultSlots, waitingSignIns: Int = 16, sendsPerSecond: Int = 20,
                sendLease: Int64 = 60_000) {
        self.waitingDeliveries = waitingDeliveries
        self.sendsPerSecond = sendsPerSecond
        self.sendLease = sendLease
        self.passwordHashers = passwordHashers
        self.waitingSignIns = waitingSignIns
    }
}
