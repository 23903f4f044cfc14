import ArgumentParser
import FlywheelEngine
import FlywheelPlatform
import FlywheelPostgres
import FlywheelServer
import FlywheelSQLite
import FlywheelStore
import Foundation
import Hummingbird
import Logging

@main
struct FlywheelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flywheel",
        abstract: "Run a brand's private-domain traffic: fans, tiers, intimacy and reach on a Douyin-style platform.",
        subcommands: [Demo.self, Simulate.self, Serve.self, Migrate.self, TenantCommand.self, Import.self, Verify.self, LotteryCommand.self, Bench.self])
}

/// Options every command that opens the database shares: a SQLite file, or PostgreSQL when a
/// URL is given.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("SQLite database file (created if missing).", valueName: "path"))
    var db: String = ProcessInfo.processInfo.environment["FLYWHEEL_DB"] ?? "flywheel.sqlite"

    @Option(name: .long, help: ArgumentHelp("PostgreSQL URL (postgres://user:pass@host:5432/db); overrides --db. Default: $DATABASE_URL.", valueName: "url"))
    var databaseURL: String?

    /// The PostgreSQL URL in force: the flag, else `DATABASE_URL`.
    var postgresURL: String? { databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] }

    /// Where the data lives, for messages.
    var location: String { postgresURL.map { _ in "PostgreSQL" } ?? db }

    func open() async throws -> any Store {
        guard let databaseURL = postgresURL else { return try await openStore(path: db) }
        let store: PostgresStore
        do {
            store = try PostgresStore(url: databaseURL, logger: Logger(label: "flywheel.postgres"))
            try await store.migrate()
        } catch {
            throw CommandFailure("cannot use the PostgreSQL database at --database-url: \(error). Check the URL, that the server runs, and the credentials.")
        }
        return store
    }
}

/// A command that could not do its work: printed as `Error: ...` with what to do next, without
/// the usage text that flag mistakes get.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Long-running commands print their address and keys before serving: show them at once even
/// when standard output is a file or a pipe.
func flushOutput() { fflush(nil) }

/// Opens and migrates the SQLite file at `path`.
func openStore(path: String) async throws -> SQLiteStore {
    let store: SQLiteStore
    do {
        store = try SQLiteStore(path: path)
    } catch {
        throw CommandFailure("cannot open database '\(path)': \(error). Check the path and that its folder is writable.")
    }
    try await store.migrate()
    return store
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema, then exit.")
    @OptionGroup var store: StoreOptions

    func run() async throws {
        _ = try await store.open()
        print("schema of \(store.location) is up to date")
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the JSON API, the platform webhook and the projector.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on.") var host: String = ProcessInfo.processInfo.environment["FLYWHEEL_HOST"] ?? "127.0.0.1"
    @Option(help: "Port to listen on.") var port: Int = Int(ProcessInfo.processInfo.environment["FLYWHEEL_PORT"] ?? "") ?? 8080
    @Flag(help: "Behind your own reverse proxy: take the client's address for sign-in limits from the last X-Forwarded-For entry, and mark cookies Secure when X-Forwarded-Proto is https. Also $FLYWHEEL_TRUST_PROXY=1.")
    var trustProxy = false
    @Option(help: ArgumentHelp("Close a connection idle (or stalled mid-body) this long.", valueName: "seconds")) var idleTimeout = 30
    @Option(help: ArgumentHelp("A request body must arrive within this, plus 1 s per 16 KiB of it.", valueName: "seconds")) var readTimeout = 10
    @Option(help: "Connections open at once; more wait in the listen backlog.") var maxConnections = 2_048
    @Option(help: "Requests answered at once; more get 503 with Retry-After.") var maxRequests = 1_024
    @Option(help: ArgumentHelp("Request bodies held in memory at once, across requests; more get 503.", valueName: "MiB")) var maxBodyMemory = 128
    @Option(help: "Webhook deliveries waiting to be stored; more get 503 with Retry-After: 1 (the platform retries).") var maxWaitingDeliveries = 10_000
    @Option(help: "Password hashes computed at once, on threads of their own (default: cores - 1, at least 1).") var passwordHashers = PasswordHasher.defaultSlots
    @Option(help: "DMs each platform app sends a second (keep below the platform's limit).") var sendsPerSecond = 20
    @Option(help: ArgumentHelp("A DM handed to the platform without an answer (the sender stopped) is sent again after this, unless the platform's echo confirmed it.",
                               valueName: "seconds")) var sendLease = 60

    func validate() throws {
        let positive = [("--idle-timeout", idleTimeout), ("--read-timeout", readTimeout), ("--max-connections", maxConnections),
                        ("--max-requests", maxRequests), ("--max-body-memory", maxBodyMemory), ("--max-waiting-deliveries", maxWaitingDeliveries),
                        ("--password-hashers", passwordHashers), ("--sends-per-second", sendsPerSecond), ("--send-lease", sendLease)]
        for (flag, value) in positive where value < 1 { throw ValidationError("\(flag) must be 1 or more") }
        // The CRM import takes one body of up to 64 MiB.
        guard maxBodyMemory >= 64 else { throw ValidationError("--max-body-memory must be at least 64 (MiB): a CRM import alone may be that large") }
    }
    @Option(help: ArgumentHelp("The platform's open API: the platform, or a sandbox's address.", valueName: "url"))
    var platformURL: String = ProcessInfo.processInfo.environment["FLYWHEEL_PLATFORM_URL"] ?? PlatformClient.douyinBaseURL

    func run() async throws {
        // A bad key stops the start; a missing one only stops accounts from being connected.
        let sealer: TokenSealer
        do { sealer = try TokenSealer.fromEnvironment() } catch { throw CommandFailure("\(error)") }
        let opened = try await store.open()
        let platform: PlatformClient = platformURL == PlatformClient.douyinBaseURL ? .douyin : .sandbox(baseURL: platformURL)
        let (flywheel, registry) = makeFlywheel(store: opened, logger: Logger(label: "flywheel"),
                                                limits: FlywheelLimits(waitingDeliveries: maxWaitingDeliveries, passwordHashers: passwordHashers,
                                                                       sendsPerSecond: sendsPerSecond, sendLease: Int64(sendLease) * 1_000),
                                                platform: platform, sealer: sealer)
        let trusted = trustProxy || ["1", "true", "yes"].contains(ProcessInfo.processInfo.environment["FLYWHEEL_TRUST_PROXY"]?.lowercased() ?? "")
        let limits = ServerLimits(idleTimeout: idleTimeout, readTimeout: readTimeout, maxConnections: maxConnections, maxRequests: maxRequests,
                                  maxBodyBytesInFlight: maxBodyMemory << 20)
        print("flywheel serving http://\(host):\(port) (database \(store.location)); webhook: POST /webhooks/douyin")
        if !sealer.isKeyed {
            print("warning: \(TokenSealer.environmentVariable) is not set: accounts cannot be connected by OAuth; set it to `openssl rand -hex 32`")
        }
        flushOutput()
        try await buildApplication(flywheel, registry: registry,
                                   settings: ServerSettings(host: host, port: port, trustProxy: trusted, limits: limits)).runService()
    }
}

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenant", abstract: "Manage tenants.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and print its first owner API key (shown once).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The enterprise's or service provider's name.") var name: String
        @Flag(help: "Create a service provider, which manages enterprises.") var provider = false
        @Option(help: ArgumentHelp("Create the enterprise under this service provider.", valueName: "tenant-id")) var managedBy: String?
        @Option(help: ArgumentHelp("The owner's console password (8 characters or more); the owner signs in as 'owner'.", valueName: "password"))
        var password: String?

        func run() async throws {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard (1...200).contains(trimmed.count) else { throw ValidationError("the name must be 1 to 200 characters") }
            if let password, password.count < 8 { throw ValidationError("--password must be 8 characters or more") }
            let opened = try await store.open()
            let (flywheel, _) = makeFlywheel(store: opened, logger: Logger(label: "flywheel"))
            var parent: Tenant?
            if let managedBy {
                guard let found = try await opened.tenant(id: managedBy), found.kind == .provider else {
                    throw CommandFailure("--managed-by '\(managedBy)' is not a service provider; list tenants with `flywheel tenant list`")
                }
                parent = found
            }
            let made = try await flywheel.tenancy.createTenant(name: trimmed, kind: provider ? .provider : .enterprise, provider: parent, actor: "cli")
            print("tenant \(made.tenant.id) (\(made.tenant.kind.rawValue)) created")
            print("owner API key (shown once, keep it): \(made.key.token)")
            if let password {
                try await flywheel.signIn.setPassword(password, of: made.owner, actor: "cli")
                print("console: sign in at /console as 'owner' with the password given (organisation \(made.tenant.id) when several tenants have an 'owner')")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            for t in try await store.open().allTenants() {
                print("\(t.id)\t\(t.kind.rawValue)\t\(t.name)\(t.providerId.map { "\tmanaged by \($0)" } ?? "")")
            }
        }
    }
}

/// A progress line on standard error, redrawn at most ten times a second.
final class Progress: @unchecked Sendable {
    // Only touched from the one task running the command.
    let label: String
    let total: Int?
    var last = Date.distantPast

    init(label: String, total: Int? = nil) {
        self.label = label
        self.total = total
    }

    /// Drawn only on a terminal: a log file gets the summary line, not a hundred redraws.
    private let terminal = isatty(STDERR_FILENO) == 1

    func update(_ done: Int) {
        let now = Date()
        guard terminal, now.timeIntervalSince(last) > 0.1 else { return }
        last = now
        let of = total.map { " / \($0) (\(Int(Double(done) / Double(max($0, 1)) * 100))%)" } ?? ""
        FileHandle.standardError.write(Data("\r\(label): \(done)\(of)   ".utf8))
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
