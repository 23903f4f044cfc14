import ArgumentParser
import FlywheelDomain
import FlywheelEngine
import Foundation

struct LotteryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lottery", abstract: "Check lotteries' draws.", subcommands: [Verify.self])

    /// Recomputes a draw from its published record: anyone can run it, nothing but the record is needed.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute a lottery's winners from its published record and check them.",
            discussion: "RECORD is the JSON of GET /v1/accounts/{accountId}/lotteries/{lotteryId}/draw after the draw (- for standard input).")

        @Argument(help: "The draw's record, a JSON file, or - for standard input.")
        var record: String

        struct Record: Decodable {
            struct Winner: Decodable { var openId: String; var prize: String }
            var lotteryId: String
            var seedHash: String
            var seed: String?
            var prizes: [LotteryPrize]
            var entries: [String]
            var winners: [Winner]
        }

        /// Says what is wrong on standard error and exits with 2: the record could not be checked at all.
        func fail(_ message: String) -> ExitCode {
            FileHandle.standardError.write(Data((message + "\n").utf8))
            return ExitCode(2)
        }

        func run() throws {
            let data: Data
            if record == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let read = FileManager.default.contents(atPath: record) else { throw fail("cannot read \(record): no such file, or not readable") }
                data = read
            }
            let r: Record
            do {
                r = try JSONDecoder().decode(Record.self, from: data)
            } catch {
                throw fail("\(record) is not a draw record (\(error)); download it with GET /v1/accounts/{accountId}/lotteries/{lotteryId}/draw")
            }
            guard let seed = r.seed else {
                throw fail("the record of \(r.lotteryId) has no seed: the lottery is not drawn yet, and its seed stays secret until it is")
            }
            let problems = LotteryDraw.problems(seed: seed, seedHash: r.seedHash, entries: r.entries, prizes: r.prizes, winners: r.winners.map { ($0.openId, $0.prize) })
            guard problems.isEmpty else {
                problems.forEach { print("✗ \($0)") }
                print("\(r.lotteryId): NOT verified (\(problems.count) problem\(problems.count == 1 ? "" : "s"))")
                throw ExitCode(1)
            }
            print("\(r.lotteryId): verified: the seed matches its published hash, and the \(r.winners.count) winners are those the seed gives from \(Set(r.entries).count) entries")
        }
    }
}
