import FlywheelDomain
import FlywheelEngine
@testable import FlywheelSandbox
import FlywheelSimulator
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing

@Suite struct LiveSimulationTests {
    @Test func theWorldKeepsActingInRealTime() async throws {
        let (flywheel, _) = try await freshFlywheel()
        let (enterprise, _) = try await PresetEnterprise.setUp(flywheel, preset: .liquor, seed: 2)
        var world = World(preset: .liquor, population: 3_000, seed: 2)
        let today = firstDay + 30
        for d in firstDay..<today { _ = world.simulate(day: d) }
        let live = LiveSimulation(flywheel, enterprises: [(enterprise, world)], today: today)
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        let noon = calendar.startOfDay(today) + 12 * 3_600_000
        let morning = try await live.tick(now: noon)
        #expect(morning > 0, "the morning's events are released")
        #expect(try await live.tick(now: noon) == 0, "nothing twice")
        let evening = try await live.tick(now: noon + 10 * 3_600_000)
        #expect(evening > 0, "the 19:00 live and the evening follow")
        let tomorrow = try await live.tick(now: noon + 24 * 3_600_000)
        #expect(tomorrow > 0, "a new day is simulated when it comes")
    }
    @Test func activeFansShareOnceEach() async throws {
        let (flywheel, _) = try await freshFlywheel()
        let (enterprise, _) = try await PresetEnterprise.setUp(flywheel, preset: .liquor, seed: 3)
        var world = World(preset: .liquor, population: 3_000, seed: 3)
        let today = firstDay + 30
        for d in firstDay..<today { _ = world.simulate(day: d) }
        let api = SandboxAPI(apps: [.init(clientKey: enterprise.app.clientKey, clientSecret: enterprise.app.clientSecret,
                                          accountOpenIds: Set(enterprise.accounts.map(\.openId)))], now: { flywheel.env.now() })
        let shares = Mutex<[String]>([])
        let live = LiveSimulation(flywheel, enterprises: [(enterprise, world)], today: today, api: api) { _, account, fan, _ in
            shares.withLock { $0.append("\(account.id)|\(fan)") }
        }
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        let noon = calendar.startOfDay(today) + 12 * 3_600_000
        _ = try await live.tick(now: noon)
        _ = try await live.tick(now: noon + 10 * 3_600_000)
        let shared = shares.withLock { $0 }
        #expect(!shared.isEmpty, "fans active in the simulation share")
        #expect(Set(shared).count == shared.count, "each fan shares once")
    }
}

@Suite struct DemoShopTests {
    /// With the accounts' shops open, what fans buy online is the shops' to report (read through
    /// the shop's order API), not appended as synced records; store orders are still pushed.
    @Test func whatFansBuyOnlineGoesToTheAccountsShops() async throws {
        let (flywheel, _) = try await freshFlywheel()
        let (enterprise, _) = try await PresetEnterprise.setUp(flywheel, preset: .liquor, seed: 4)
        var world = World(preset: .liquor, population: 3_000, seed: 4)
        let today = firstDay + 30
        for d in firstDay..<today { _ = world.simulate(day: d) }
        let api = SandboxAPI(apps: [.init(clientKey: enterprise.app.clientKey, clientSecret: enterprise.app.clientSecret,
                                          accountOpenIds: Set(enterprise.accounts.map(\.openId)))], now: { flywheel.env.now() })
        try await enterprise.openShops(flywheel, api: api, connect: false)
        let live = LiveSimulation(flywheel, enterprises: [(enterprise, world)], today: today, api: api)
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        for hour in stride(from: 12, through: 60, by: 12) { _ = try await live.tick(now: calendar.startOfDay(today) + Int64(hour) * 3_600_000) }
        await flywheel.projector.drain()
        let sold = api.state.withLock { $0.shops.values.flatMap(\.orders.values) }
        #expect(!sold.isEmpty, "two days of a liquor brand sell online")
        for account in enterprise.accounts {
            let logged = try await flywheel.env.store.orders(of: account, openId: nil, from: nil, to: nil, before: nil, limit: 10_000)
            #expect(logged.allSatisfy { $0.source != .sync }, "online orders come from the shop, not as synced records")
        }
    }
}

/// `flywheel demo` from an empty directory: it simulates, serves, and the printed key works.
@Suite struct DemoTests {
    static func flywheelBinary() throws -> URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let binary = url.appendingPathComponent(".build/debug/flywheel")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw Missing(what: binary.path) }
        return binary
    }

    struct Missing: Error, CustomStringConvertible {
        var what: String
        var description: String { "\(what) is not built: run scripts/test, which builds it before testing" }
    }

    /// `flywheel demo` started in a fresh directory, once it has printed its API key.
    /// `directory`: where a demo ran before (a restart); a new one otherwise.
    /// Runs the binary to its end; its exit status and what it printed (both streams).
    static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = try flywheelBinary()
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = Self.read(output.fileHandleForReading, toEnd: true)
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// What a pipe holds: the next chunk, or everything to its end. A read a signal interrupts is
    /// read again (Foundation's `availableData` and `readDataToEndOfFile` stop the tests on it).
    static func read(_ handle: FileHandle, toEnd: Bool) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(handle.fileDescriptor, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { Issue.record("reading the child's output failed: errno \(errno)") }
            guard n > 0 else { return data }
            data.append(contentsOf: buffer[0..<n])
            if !toEnd { return data }
        }
    }

    static func startDemo(_ options: [String], port: Int, in directory: URL? = nil) async throws -> (process: Process, key: String, directory: URL) {
        let dir = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = try flywheelBinary()
        process.currentDirectoryURL = dir
        process.arguments = ["demo", "--port", String(port), "--db", dir.appendingPathComponent("flywheel-demo.sqlite").path] + options
        let output = Pipe()
        process.standardOutput = output
        // Its log kept beside its database: a test that finds the demo gone says why.
        let log = dir.appendingPathComponent("demo.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        process.standardError = logHandle
        try process.run()
        // The demo has its own copy of the handle.
        try logHandle.close()
        // The key is printed once the history is in and the server answers.
        var printed = ""
        let deadline = Date().addingTimeInterval(180)
        while !printed.contains("API key:"), Date() < deadline, process.isRunning {
            let chunk = Self.read(output.fileHandleForReading, toEnd: false)
            if chunk.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
            printed += String(decoding: chunk, as: UTF8.self)
        }
        guard let key = printed.split(whereSeparator: \.isWhitespace).first(where: { $0.hasPrefix("fw_") }).map(String.init) else {
            process.terminate()
            throw Missing(what: "the demo's API key in its output: \(printed)\n\(lastWords(of: dir))")
        }
        return (process, key, dir)
    }

    /// The end of the log of the demo started in `dir`.
    static func lastWords(of dir: URL) -> String {
        let log = String(decoding: FileManager.default.contents(atPath: dir.appendingPathComponent("demo.log").path) ?? Data(), as: UTF8.self)
        return "the demo's log ends:\n" + log.split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    @Test func simulateRefusesBadOptionsSayingWhatToDo() throws {
        for (arguments, hint) in [(["--preset", "bakery", "--db", "x.sqlite"], "unknown preset 'bakery'; one of liquor"),
                                  (["--preset", "liquor"], "give exactly one of --to URL (with --key) and --db PATH"),
                                  (["--preset", "liquor", "--to", "http://127.0.0.1:1"], "--to needs --key")] {
            let process = Process()
            process.executableURL = try Self.flywheelBinary()
            process.arguments = ["simulate"] + arguments
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            let said = String(decoding: Self.read(errors.fileHandleForReading, toEnd: true), as: UTF8.self)
            #expect(process.terminationStatus != 0 && said.contains(hint), "\(arguments): \(said)")
        }
    }

    @Test func theDemoStartsFromAnEmptyDirectoryAndServes() async throws {
        let port = Int.random(in: 20_000..<40_000)
        let (process, key, dir) = try await Self.startDemo(["--fans", "300", "--days", "7"], port: port)
        defer { if process.isRunning { process.terminate() } }
        let deadline = Date().addingTimeInterval(60)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("flywheel-demo.sqlite").path))

        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/enterprises")!)
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 5
        var enterprises: [String] = []
        while enterprises.isEmpty, Date() < deadline {
            if let (data, _) = try? await URLSession.shared.data(for: request),
               let items = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["items"] as? [[String: Any]] {
                enterprises = items.compactMap { $0["name"] as? String }.sorted()
            } else {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        #expect(enterprises == Preset.all.map(\.enterprise).sorted())
        // Each account runs its journey with a 20% holdout, taken through the history: fans on both sides.
        var experiments = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/experiments")!)
        experiments.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        let (reports, _) = try await URLSession.shared.data(for: experiments)
        let items = (try JSONSerialization.jsonObject(with: reports) as? [String: Any])?["items"] as? [[String: Any]] ?? []
        func fans(_ arm: String) -> Int { items.compactMap { (($0["arms"] as? [String: Any])?[arm] as? [String: Any])?["fans"] as? Int }.reduce(0, +) }
        #expect(items.count == Preset.all.map(\.accounts.count).reduce(0, +) && items.allSatisfy { $0["holdoutPercent"] as? Int == 20 })
        // A week of 300 people brings a few dozen writers (the 90-day demo holds hundreds on each side); the treated who had not bought got the offer.
        #expect(fans("treated") > 0, "treated \(fans("treated")), held out \(fans("holdout")), control \(fans("control"))")
        var sent = 0
        for item in items {
            var detail = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/journeys/\(item["journeyId"] as? String ?? "")")!)
            detail.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
            let (data, _) = try await URLSession.shared.data(for: detail)
            let steps = ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["progress"] as? [String: Any])?["steps"] as? [[String: Any]] ?? []
            sent += steps.filter { $0["kind"] as? String == "dm" && $0["outcome"] as? String == "sent" }.compactMap { $0["fans"] as? Int }.reduce(0, +)
        }
        #expect(sent > 0, "DMs sent by the journeys through the history")
        // The sandbox platform's open API listens beside it.
        var token = URLRequest(url: URL(string: "http://127.0.0.1:\(port + 1)/oauth/client_token/")!)
        token.httpMethod = "POST"
        token.httpBody = Data(#"{"client_key":"sbx_liquor_1","client_secret":"wrong","grant_type":"client_credential"}"#.utf8)
        let (data, _) = try await URLSession.shared.data(for: token)
        #expect((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["err_no"] as? Int == SandboxAPI.invalidParameter)
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "stopped right after serving, the demo shuts down cleanly")
        // Every account's fans and figures are what the raw log gives, by the second implementation.
        let (status, said) = try Self.run(["verify", "--all", "--db", dir.appendingPathComponent("flywheel-demo.sqlite").path])
        #expect(status == 0 && said.components(separatedBy: ", 0 mismatches").count - 1 == Preset.all.map(\.accounts.count).reduce(0, +), "\(said)")

        // Restarted on the same database, the demo prints the same key (kept beside it, for its owner only).
        let kept = dir.appendingPathComponent("flywheel-demo.sqlite.apikey").path
        #expect((try FileManager.default.attributesOfItem(atPath: kept)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let (again, sameKey, _) = try await Self.startDemo(["--fans", "300", "--days", "7"], port: port, in: dir)
        defer { if again.isRunning { again.terminate() } }
        #expect(sameKey == key)
        again.terminate()
        again.waitUntilExit()
    }
}
