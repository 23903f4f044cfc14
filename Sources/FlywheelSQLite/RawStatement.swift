import FlywheelStore
import GRDB
import GRDBSQLite

/// A statement driven through the SQLite C API. The hot paths (appending events, reading and
/// writing fans) bind and step with it, without boxing each value: about 2.5 times GRDB's
/// statement API on this machine (BENCHMARKS.md).
final class RawStatement {
    private let handle: OpaquePointer
    private let connection: SQLiteConnection?
    /// GRDB's statement when it is kept in the connection's cache (and finalized by GRDB).
    private let cachedBy: Statement?
    /// Where bound texts live, so SQLite need not copy them: a text bound with a copy is a
    /// `malloc` and a `free` each time, and the writer binds millions of texts a million events
    /// (BENCHMARKS.md). Behind a pointer: a class's stored property would be checked for
    /// exclusive access at every bind.
    private let texts: UnsafeMutablePointer<TextArena>

    /// A statement of its own, finalized when done with: for texts made from a request.
    init(_ db: Database, sql: String) throws {
        connection = db.sqliteConnection
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(connection, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
        }
        handle = statement
        cachedBy = nil
        texts = TextArena.make(parameters: sqlite3_bind_parameter_count(statement))
    }

    /// The connection's prepared statement for this text, kept across transactions: the
    /// projector's and the log's statements are the same every batch, and preparing them (a
    /// 200-row insert most of all) was a millisecond a batch, most of a live batch's time.
    init(cached db: Database, sql: String) throws {
        let statement = try db.cachedStatement(sql: sql)
        connection = db.sqliteConnection
        handle = statement.sqliteStatement
        cachedBy = statement
        texts = TextArena.make(parameters: sqlite3_bind_parameter_count(handle))
    }

    // A cached statement is reset and let go of its values, not finalized: one left mid-read
    // would hold its snapshot open, and a 200-row insert its last rows.
    deinit {
        if cachedBy == nil {
            sqlite3_finalize(handle)
        } else {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        texts.pointee.release()
        texts.deinitialize(count: 1)
        texts.deallocate()
    }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    func bind(_ index: Int32, _ value: String?) {
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        // The string's own UTF-8 bytes with their length: no C string made, no length counted.
        value.withUTF8 { utf8 in
            let slot = Int(index) - 1
            // No such parameter: SQLite would refuse the value too (SQLITE_RANGE).
            guard texts.pointee.slots.indices.contains(slot) else { return }
            let bytes = texts.pointee.bytes(for: slot, count: utf8.count)
            if let source = utf8.baseAddress { UnsafeMutableRawPointer(bytes).copyMemory(from: source, byteCount: utf8.count) }
            sqlite3_bind_text(handle, index, bytes, Int32(utf8.count), SQLITE_STATIC)
        }
    }

    /// A statement's texts: each parameter keeps its place, reused while its next text fits,
    /// until the statement is let go of. Places are cut from a few large blocks, so a statement
    /// used once (a 200-row insert) allocates a few blocks, not a buffer a value.
    private struct TextArena {
        struct Place {
            var bytes: UnsafeMutablePointer<UInt8>?
            var capacity = 0
        }

        var slots: UnsafeMutableBufferPointer<Place>
        var blocks: [UnsafeMutablePointer<UInt8>] = []
        var next: UnsafeMutablePointer<UInt8>?
        var left = 0

        static func make(parameters: Int32) -> UnsafeMutablePointer<TextArena> {
            let slots = UnsafeMutableBufferPointer<Place>.allocate(capacity: Int(parameters))
            slots.initialize(repeating: Place())
            let arena = UnsafeMutablePointer<TextArena>.allocate(capacity: 1)
            arena.initialize(to: TextArena(slots: slots))
            return arena
        }

        /// Room for `count` bytes for the parameter at `slot`. A place outgrown is left unused
        /// (the parameter is bound to its new place before the statement steps again); its
        /// successor is twice as large, so little is left behind. The first block is sized for
        /// the statement's parameters, so a short read allocates little.
        mutating func bytes(for slot: Int, count: Int) -> UnsafeMutablePointer<UInt8> {
            if let bytes = slots[slot].bytes, slots[slot].capacity >= count { return bytes }
            let capacity = max(count, 2 * slots[slot].capacity, 16)
            let bytes: UnsafeMutablePointer<UInt8>
            if let next, capacity <= left {
                bytes = next
            } else {
                let size = max(capacity, blocks.isEmpty ? min(4_096, 32 * slots.count) : 4_096 << min(blocks.count, 6))
                bytes = .allocate(capacity: size)
                blocks.append(bytes)
                left = size
            }
            next = bytes + capacity
            left -= capacity
            slots[slot] = Place(bytes: bytes, capacity: capacity)
            return bytes
        }

        func release() {
            for block in blocks { block.deallocate() }
            slots.deallocate()
        }
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds values to consecutive parameters from `next` on.
    struct Parameters: FanRowSink {
        let statement: RawStatement
        var next: Int32

        mutating func int(_ value: Int64?) {
            statement.bind(next, value)
            next += 1
        }

        mutating func text(_ value: String?) {
            statement.bind(next, value)
            next += 1
        }
    }

    func bind(_ index: Int32, _ cell: Cell) {
        switch cell {
        case .int(let i): bind(index, i)
        case .text(let s): bind(index, s)
        case .null: sqlite3_bind_null(handle, index)
        }
    }

    /// Runs a statement that returns no rows; returns the rows it changed.
    @discardableResult
    func run() throws -> Int {
        let rc = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard rc == SQLITE_DONE else { throw failure(rc) }
        return Int(sqlite3_changes(connection))
    }

    /// Advances to the next row; false (and ready to run again) when there is none.
    func next() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        sqlite3_reset(handle)
        guard rc == SQLITE_DONE else { throw failure(rc) }
        return false
    }

    /// Ends a read early so the statement can be bound again.
    func reset() { sqlite3_reset(handle) }

    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func text(_ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(handle, column) else { return nil }
        // By its length, as it was bound: the text as appended, NULs included, with no length counted.
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column))), as: UTF8.self)
    }

    func cell(_ column: Int32) -> Cell {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: .int(int(column))
        case SQLITE_TEXT: text(column).map(Cell.text) ?? .null
        default: .null
        }
    }

    private func failure(_ rc: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(connection)))
    }
}

extension RawStatement {
    /// Runs a context's statement to its end (any rows it returns passed over), prepared once on
    /// the connection and bound straight from its cells: a projection batch runs the same few
    /// inserts thousands of times, and GRDB's boxed arguments and row decoding cost more than the
    /// inserts' own work once the rows are small. Their texts are few (`SQLStatement.insert` makes
    /// rows a statement 200 or a power of two).
    static func run(_ statement: SQLStatement, _ db: Database) throws {
        let raw = try RawStatement(cached: db, sql: statement.sql)
        for (i, cell) in statement.binds.enumerated() { raw.bind(Int32(i + 1), cell) }
        while try raw.next() {}
    }
}

/// SQLite's "the bytes stay put until bound again": no copy taken.
private let SQLITE_STATIC: sqlite3_destructor_type? = nil
