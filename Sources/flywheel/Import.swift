import ArgumentParser
import FlywheelEngine
import FlywheelServer
import FlywheelStore
import Foundation
import Logging

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import events from an NDJSON file (docs/events.md) and project them.",
        discussion: """
            All lines are checked before anything is written; one bad line imports nothing. Events are then appended in \
            transactions of 50,000 and projected beside the appends in whole batches of 250,000, the last whole one and the rest after them. \
            Importing the same file again changes nothing, so an import that was interrupted is finished by running it again.
            """)
    @OptionGroup var store: StoreOptions
    @Argument(help: "NDJSON file, one event per line.") var file: String
    @Option(help: ArgumentHelp("Tenant the accounts belong to.", valueName: "tenant-id")) var tenant: String
    @Option(help: ArgumentHelp("Account for lines that name none.", valueName: "account-id")) var account: String?
    @Option(help: "Most events a projection batch holds (fewer hold less in memory).") var projectBatch = Flywheel.defaultProjectionBatch

    func validate() throws {
        guard (1...Flywheel.defaultProjectionBatch).contains(projectBatch) else {
            throw ValidationError("--project-batch must be between 1 and \(Flywheel.defaultProjectionBatch)")
        }
    }

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read '\(file)'") }
        let opened = try await store.open()
        let summary = try await EventFileImport(store: opened, tenant: tenant, account: account, name: file, projectBatch: projectBatch).run(data)
        print(summary.line)
        if !summary.failures.isEmpty {
            throw CommandFailure("projection failed for: \(summary.failures.map { "\($0.key): \($0.value)" }.joined(separator: "; "))")
        }
    }
}

/// `flywheel import` itself, also timed by `flywheel bench import`.
struct EventFileImport {
    let store: any Store
    let tenant: String
    let account: String?
    /// The file's name, for messages.
    let name: String
    /// Most events a projection batch holds.
    var projectBatch = Flywheel.defaultProjectionBatch
    /// Events a transaction appends.
    static let chunk = 50_000

    struct Summary {
        var inserted: Int
        var duplicates: Int
        var accounts: Int
        var seconds: Double
        var failures: [String: String]
        var line: String {
            "imported \(inserted) events (\(duplicates) already present) into \(accounts) account(s) and projected them in \(String(format: "%.1f", seconds)) s"
        }
    }

    func run(_ data: Data) async throws -> Summary {
        let started = Date()
        let checking = Progress(label: "checking")
        let lines: [(number: Int, text: Substring)]
        do { lines = try EventImport.lines(data) } catch {
            throw CommandFailure("\(name):\(error.description). Nothing was imported; fix the line and run again.")
        }
        let parsed = try await Self.parse(lines) { checking.update($0) }
        checking.finish()
        var accounts: [String: Account] = [:]
        var events: [AccountEvent] = []
        events.reserveCapacity(parsed.count)
        for (number, line) in parsed {
            guard let accountId = line.account ?? account else {
                throw CommandFailure("\(name):line \(number): account: no 'account' on the line and no --account given. Nothing was imported.")
            }
            if accounts[accountId] == nil {
                guard let found = try await store.account(id: accountId, tenantIds: [tenant]) else {
                    throw CommandFailure("\(name):line \(number): account: no account '\(accountId)' in tenant \(tenant). Nothing was imported.")
                }
                accounts[accountId] = found
            }
            events.append(AccountEvent(tenantId: tenant, accountId: accountId, event: line.event))
        }

        let projector = Projector(makeFlywheel(store: store, logger: Logger(label: "flywheel")).flywheel.env, batchSize: projectBatch)
        let projecting = ProjectingAlongside(projector)
        let writing = Progress(label: "writing", total: events.count)
        var inserted = 0
        for start in stride(from: 0, to: events.count, by: Self.chunk) {
            let stored = try await store.append(Array(events[start..<min(start + Self.chunk, events.count)])) { _ in }.inserted
            projecting.appended(stored)
            inserted += stored
            writing.update(min(start + Self.chunk, events.count))
        }
        writing.finish()
        _ = await projecting.finish()
        return Summary(inserted: inserted, duplicates: events.count - inserted, accounts: accounts.count,
                       seconds: Date().timeIntervalSince(started), failures: await projector.failures())
    }

    /// Every line parsed, on every core; the first bad line (by number) fails the import.
    static func parse(_ lines: [(number: Int, text: Substring)], progress: @escaping (Int) -> Void) async throws -> [(Int, EventImport.Line)] {
        let slice = 20_000
        return try await withThrowingTaskGroup(of: (Int, [(Int, EventImport.Line)]).self) { group in
            for start in stride(from: 0, to: lines.count, by: slice) {
                let part = Array(lines[start..<min(start + slice, lines.count)])
                group.addTask { (start, try part.map { ($0.number, try EventImport.parse($0.text, line: $0.number)) }) }
            }
            var parts: [Int: [(Int, EventImport.Line)]] = [:]
            var firstError: EventImport.LineError?
            while let next = await group.nextResult() {
                switch next {
                case .success(let (start, part)):
                    parts[start] = part
                    progress(parts.values.reduce(0) { $0 + $1.count })
                case .failure(let error as EventImport.LineError):
                    if error.line < firstError?.line ?? .max { firstError = error }
                case .failure(let error):
                    throw error
                }
            }
            if let firstError {
                throw CommandFailure("\(firstError.description). Nothing was imported; fix the line and run again.")
            }
            return parts.keys.sorted().flatMap { parts[$0] ?? [] }
        }
    }
}
