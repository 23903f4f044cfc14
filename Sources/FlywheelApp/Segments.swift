import Crypto
import FlywheelDomain
import FlywheelEngine
import FlywheelPlatform
import FlywheelStore
import Foundation

/// The segments context: what the API and the console do with segments, each use case checking
/// the caller's access, validating, and writing with its audit entry.
public struct Segments: Sendable {
    let flywheel: Flywheel
    var env: FlywheelEnvironment { flywheel.env }
    var store: any Store { flywheel.env.store }

    public init(_ flywheel: Flywheel) { self.flywheel = flywheel }

    /// A new dynamic segment, built by its one full scan (or failed, with the reason).
    public func create(name: String, predicate: FanPredicate, in account: Account, by caller: Principal) async throws -> Segment {
        try caller.authorize(.createSegment)
        let name = try Validate.name(name, field: "name")
        let now = env.now()
        let segment = Segment(tenantId: account.tenantId, accountId: account.id, id: env.newId("seg"), name: name,
                              predicate: predicate, state: .building, createdAt: now, updatedAt: now)
        try await store.createSegment(segment, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "segment.create",
                                                               target: segment.id, detail: segment.storedPredicate))
        return try await build(segment, of: account)
    }

    /// Renames, or redefines and rebuilds, a segment.
    public func change(_ segment: Segment, of account: Account, name: String?, predicate: FanPredicate?, by caller: Principal) async throws -> Segment {
        try caller.authorize(.changeSegment)
        var segment = segment
        if let name { segment.name = try Validate.name(name, field: "name") }
        if let predicate {
            guard segment.predicate != nil else { throw UseCaseError.invalid(field: "predicate", "a static segment has no predicate; create a dynamic one instead") }
            segment.predicate = predicate
            segment.state = .building
        }
        segment.updatedAt = env.now()
        try await store.updateSegment(segment, audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "segment.change",
                                                               target: segment.id, detail: segment.storedPredicate))
        return predicate == nil ? segment : try await build(segment, of: account)
    }

    public func delete(_ segment: Segment, of account: Account, by caller: Principal) async throws {
        try caller.authorize(.deleteSegment)
        try await store.deleteSegment(id: segment.id, of: account, audit: env.audit(tenantId: account.tenantId, actor: caller.actor,
                                                                                  action: "segment.delete", target: segment.id, detail: segment.name))
    }

    /// The full scan; a failure is recorded on the segment (state `failed`, with the reason), never silent.
    func build(_ segment: Segment, of account: Account) async throws -> Segment {
        do {
            return try await store.buildSegment(id: segment.id, of: account, now: env.now())
        } catch {
            var failed = segment
            failed.state = .failed
            // Shown in the API and the console: the database's words stay in the log below.
            failed.failure = "the full scan failed: \(ErrorText.forAnswer(error))"
            failed.updatedAt = env.now()
            try await store.updateSegment(failed, audit: nil)
            env.logger.error("segment build failed", metadata: ["segment": "\(segment.id)", "error": "\(error)"])
            return failed
        }
    }

    /// A segment of the enterprise's whole matrix: people with one account's fan matching, or
    /// (`merged`) people matching once merged over the accounts.
    public func createMatrixSegment(name: String, predicate text: String, merged: Bool, tenantId: String, by caller: Principal) async throws -> MatrixSegment {
        try caller.authorize(.createSegment)
        let name = try Validate.name(name, field: "name")
        let predicate: FanPredicate
        do { predicate = try FanPredicate.parse(text) } catch { throw UseCaseError.invalid(field: "predicate", error.description) }
        let segment = MatrixSegment(tenantId: tenantId, id: env.newId("mseg"), name: name, predicate: predicate, merged: merged, createdAt: env.now())
        try await store.createMatrixSegment(segment, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "segment.matrix.create", target: name,
                                                                      detail: (merged ? "merged: " : "any account: ") + predicate.description))
        return segment
    }

    public func deleteMatrixSegment(_ id: String, tenantId: String, by caller: Principal) async throws {
        try caller.authorize(.deleteSegment)
        try await store.deleteMatrixSegment(id: id, tenantId: tenantId, audit: env.audit(tenantId: tenantId, actor: caller.actor, action: "segment.matrix.delete", target: id))
    }

    /// A static segment of the open_ids in a CSV (the first column; an `open_id` header optional);
    /// returns it and how many distinct open_ids the file held.
    public func importStatic(name: String, csv: String, into account: Account, by caller: Principal) async throws -> (segment: Segment, rows: Int) {
        try caller.authorize(.importSegment)
        let name = try Validate.name(name, field: "name")
        var openIds: [String] = []
        var seen = Set<String>()
        for (i, line) in csv.split(whereSeparator: \.isNewline).enumerated() {
            let value = line.split(separator: ",", maxSplits: 1).first.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"")) } ?? ""
            if value.isEmpty || (i == 0 && value.lowercased() == "open_id") { continue }
            // Open_ids are ids the platform issued: letters, digits and a few marks, nothing else.
            guard value.utf8.count <= 200, value.unicodeScalars.allSatisfy({ $0.isASCII && Self.openIdCharacters.contains(Character($0)) }) else {
                throw UseCaseError.invalid(field: "body", "line \(i + 1): '\(value.prefix(40))' is not an open_id")
            }
            if seen.insert(value).inserted { openIds.append(value) }
        }
        guard !openIds.isEmpty else { throw UseCaseError.invalid(field: "body", "no open_ids found; send one per line") }
        let now = env.now()
        let segment = try await store.createStaticSegment(
            Segment(tenantId: account.tenantId, accountId: account.id, id: env.newId("seg"), name: name, predicate: nil, state: .building, createdAt: now, updatedAt: now),
            of: account, members: openIds, cause: "imported",
            audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "segment.import", target: name, detail: "\(openIds.count) rows"))
        return (segment, openIds.count)
    }

    static let openIdCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@/+=")

    /// A static segment of the `size` fans outside `seed` most like its members (docs/predicates.md).
    public func lookalike(of seed: Segment, in account: Account, name: String, size: Int, by caller: Principal) async throws -> Segment {
        try caller.authorize(.createLookalike)
        let name = try Validate.name(name, field: "name")
        guard (1...1_000_000).contains(size) else { throw UseCaseError.invalid(field: "size", "must be from 1 to 1,000,000") }
        let members = Set(try await allMembers(of: seed, in: account))
        guard !members.isEmpty else { throw UseCaseError.invalid(field: "segmentId", "the seed segment has no members") }
        let ranked = try await flywheel.lookalike.rank(seed: members, of: account, count: size)
        let now = env.now()
        return try await store.createStaticSegment(
            Segment(tenantId: account.tenantId, accountId: account.id, id: env.newId("seg"), name: name, predicate: nil, state: .building, createdAt: now, updatedAt: now),
            of: account, members: ranked.map(\.openId), cause: "lookalike:\(seed.id)",
            audit: env.audit(tenantId: account.tenantId, actor: caller.actor, action: "segment.lookalike", target: name, detail: "seed \(seed.id), \(ranked.count) fans"))
    }

    /// The segment's portrait with tiers by name and `following` as true/false.
    public func portrait(of segment: Segment, in account: Account, by caller: Principal) async throws -> Portrait {
        try caller.authorize(.readSegmentPortrait)
        var portrait = try await store.portrait(ofSegment: segment.id, of: account)
        portrait.distributions["tier"] = Dictionary(uniqueKeysWithValues: (portrait.distributions["tier"] ?? [:]).map {
            (Int($0.key).flatMap(Tier.init(rawValue:))?.name ?? $0.key, $0.value)
        })
        portrait.distributions["following"] = Dictionary(uniqueKeysWithValues: (portrait.distributions["following"] ?? [:]).map {
            ($0.key == "1" ? "true" : "false", $0.value)
        })
        return portrait
    }

    /// The segment's size at the end of each day of `days` (the account's calendar), with the
    /// day's entries and exits, counted back from today's size through its history.
    public func sizes(of segment: Segment, in account: Account, days range: ClosedRange<Int>, by caller: Principal) async throws
        -> [(day: Int, size: Int, entered: Int, left: Int)] {
        try caller.authorize(.readSegmentSizes)
        let calendar = account.calendar
        var entered: [Int: Int] = [:], left: [Int: Int] = [:]
        var afterRange = 0
        for move in try await store.segmentMovements(id: segment.id, of: account, since: calendar.startOfDay(range.lowerBound)) {
            let day = calendar.day(ofMillis: move.at)
            if day > range.upperBound {
                afterRange += move.delta
            } else if move.delta > 0 {
                entered[day, default: 0] += 1
            } else {
                left[day, default: 0] += 1
            }
        }
        var size = segment.size - afterRange
        var days: [(day: Int, size: Int, entered: Int, left: Int)] = []
        for day in range.reversed() {
            // Before the segment existed it had no members.
            let existed = calendar.startOfDay(day + 1) > segment.createdAt
            days.append((day, existed ? max(0, size) : 0, entered[day] ?? 0, left[day] ?? 0))
            size -= (entered[day] ?? 0) - (left[day] ?? 0)
        }
        return days.reversed()
    }

    /// The members as CSV of open_ids for ad targeting: plain, or SHA-256 hashed (`sha256`).
    public func export(_ segment: Segment, of account: Account, hash: String?, by caller: Principal) async throws -> (csv: String, filename: String) {
        try caller.authorize(.exportSegment)
        let hashed: Bool
        switch hash {
        case nil: hashed = false
        case "sha256": hashed = true
        case let other?: throw UseCaseError.invalid(field: "hash", "'\(other)' is not supported; use sha256 or leave it out")
        }
        var csv = hashed ? "open_id_sha256\n" : "open_id\n"
        for openId in try await allMembers(of: segment, in: account) {
            csv += (hashed ? Array(SHA256.hash(data: Array(openId.utf8))).hex : openId) + "\n"
        }
        return (csv, "\(segment.id).csv")
    }

    func allMembers(of segment: Segment, in account: Account) async throws -> [String] {
        var members: [String] = []
        var cursor: String?
        repeat {
            let page = try await store.segmentMembers(id: segment.id, of: account, cursor: cursor, limit: 5_000)
            members += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return members
    }
}

extension Principal {
    /// How the audit log names the caller.
    public var actor: String { "user:\(userId)" }
}
