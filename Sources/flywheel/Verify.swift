import ArgumentParser
import FlywheelApp
import FlywheelEngine
import FlywheelServer
import FlywheelStore
import Foundation
import Logging

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute an account's fans and figures from its raw event log and list what differs.",
        discussion: """
            A second implementation, written from the documents and sharing no code with the projector, folds every event of \
            the account's log into each fan's state (first arrival, last activity, following, counters, GMV, intimacy and \
            level with the daily caps) and compares it with the store; then checks each fan's tier against the account's \
            rules, its transitions in log order, the tier counts, the funnel and its weeks' new fans, the indicators, the \
            orders and GMV, the sales report's splits, the desk's SLA answers, each journey's experiment (a segment's or \
            funnel stage's from its recorded entries, each checked against the log), and each post's and campaign's holdout \
            experiment. Run it when the projector has caught up. Exits 1 when anything differs.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: ArgumentHelp("The account to verify.", valueName: "account-id")) var account: String?
    @Flag(help: "Verify every account.") var all = false

    func run() async throws {
        guard all != (account != nil) else { throw CommandFailure("name one account with --account ID, or verify every account with --all") }
        let opened = try await store.open()
        let (flywheel, _) = makeFlywheel(store: opened, logger: Logger(label: "flywheel"))
        let tenants = try await opened.allTenants().map(\.id)
        let accounts = try await opened.accounts(tenantIds: tenants).filter { account == nil || $0.id == account }
        guard !accounts.isEmpty else { throw CommandFailure("no account \(account ?? "") in \(store.db); list them with GET /v1/accounts") }
        var mismatches = 0
        for account in accounts {
            let report = try await Verification(flywheel).verify(account)
            mismatches += report.mismatches
            print("\(account.id) (\(account.name)): \(report.events) events, \(report.fans) fans, "
                + "\(report.checks.map(\.compared).reduce(0, +)) values in \(report.checks.count) checks, \(report.mismatches) mismatches")
            for check in report.checks where !check.mismatches.isEmpty {
                print("  \(check.name): \(check.mismatches.count) of \(check.compared) differ")
                for line in check.mismatches.prefix(20) { print("    \(line)") }
            }
        }
        if mismatches > 0 { throw CommandFailure("\(mismatches) values differ from what the log gives") }
    }
}
