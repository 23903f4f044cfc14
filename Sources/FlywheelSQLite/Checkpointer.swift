import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Copies the write-ahead log into the database file on a connection and thread of its own, so
/// the one writer does not stop for most of the copy and its fsync: SQLite's own checkpoint runs
/// on the writer after each commit past 1,000 pages, and every webhook's group commit and
/// projection batch waits behind it.
///
/// SQLite starts the log over only after a checkpoint that reached its end, which a copy beside
/// steady writes never does (a log of 550 MB, BENCHMARKS.md). So past `writerPages`, once no
/// more than half the log (and at most `writerPages`) is left to copy, the writer copies the rest
/// once the write that committed has returned, and the log starts over (when no reader still
/// reads it). Past `mostPages` the writer waits for a copy and checkpoints, as SQLite's own
/// checkpoint would have made it wait: the log's bound, as long as no reader holds a snapshot
/// from before it (then no checkpoint copies past it).
final class Checkpointer: Sendable {
    /// Pages in the log past which the copy starts on the other thread.
    static let pages: Int32 = 1_000
    /// Pages the log grows by between two copies: a copy after every group commit of a few pages
    /// paid an fsync for each (a quarter more of the copies' CPU in `bench webhook`).
    static let step: Int32 = 250
    /// Pages past which the writer finishes the copy itself, when no more than these (and no more
    /// than half the log) are left.
    static let writerPages: Int32 = 4_000
    /// Pages in the log past which the writer waits for the copy: 125 MiB of 4 KiB pages (SQLite's
    /// own log grew near 95 MB in a bulk import, its snapshots holding it).
    static let mostPages: Int32 = 32_000

    private let path: String
    private let queue = DispatchQueue(label: "flywheel.sqlite.checkpoint")
    /// Whether a copy is queued and not yet started: commits meanwhile add nothing to it.
    private let queued = Atomic(false)
    /// The last checkpoint's pages in the log and pages copied (high and low 32 bits).
    private let lastCopy = Atomic<UInt64>(0)
    /// The log's pages at the writer's last commit: fewer at the next means it started over.
    private let lastPages = Atomic<Int32>(0)
    /// Whether the writer checkpoints alone, as SQLite does: the store was let go, or the
    /// checkpointing connection could not be opened.
    private let alone = Atomic(false)
    /// The checkpointing connection, opened at the first copy.
    private let connection = Mutex<DatabaseQueue?>(nil)
    /// Runs work on the writer's connection after the writes queued before it (`SQLiteStore`).
    private let onWriter = Mutex<(@Sendable (@escaping @Sendable (OpaquePointer) -> Void) -> Void)?>(nil)
    /// Whether the writer's copy is queued and not yet started.
    private let writerQueued = Atomic(false)

    init(path: String) { self.path = path }

    /// Where the writer's copy is queued (the store's pool, once open).
    func useWriter(_ writer: @escaping @Sendable (@escaping @Sendable (OpaquePointer) -> Void) -> Void) {
        onWriter.withLock { $0 = writer }
    }

    /// Installs the checkpointer on the writer's connection in place of SQLite's automatic
    /// checkpoint. The hook keeps the checkpointer (a few hundred bytes) for the process's life:
    /// the writer's connection may outlive the store (a runner keeps the pool).
    func install(on writer: OpaquePointer?) {
        sqlite3_wal_hook(writer, { context, writer, _, pages in
            guard let context else { return SQLITE_OK }
            Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue().committed(pages: pages, writer: writer)
            return SQLITE_OK
        }, Unmanaged.passRetained(self).toOpaque())
    }

    /// After each commit of the writer's, with the pages now in the log.
    private func committed(pages: Int32, writer: OpaquePointer?) {
        // A log that started over makes the last copy's figures those of another log.
        if lastPages.exchange(pages, ordering: .relaxed) > pages { lastCopy.store(0, ordering: .releasing) }
        guard pages >= Self.pages, let writer else { return }
        if alone.load(ordering: .acquiring) {
            checkpoint(writer)
            return
        }
        let (seen, copied) = lastCheckpoint(of: pages)
        if pages >= Self.mostPages {
            // The bound: the writer waits for a copy, then copies what is left.
            requestCopy()
            queue.sync {}
            checkpoint(writer)
        } else if pages >= Self.writerPages, pages - copied <= min(Self.writerPages, pages / 2) {
            copyOnWriter(writer)
        } else if pages - seen >= Self.step {
            requestCopy()
        }
    }

    /// The writer's copy of the rest, once the write that committed has returned: its caller (a
    /// bulk import's last batch, a group commit's deliveries) does not wait for the copy (0.17 s
    /// at the end of `bench ingest`). Writes queued meanwhile go first; each commit past
    /// `mostPages` still waits. Without a writer to queue on, the copy runs here, as SQLite's would.
    private func copyOnWriter(_ writer: OpaquePointer) {
        guard let onWriter = onWriter.withLock({ $0 }) else {
            checkpoint(writer)
            return
        }
        guard !writerQueued.exchange(true, ordering: .acquiringAndReleasing) else { return }
        onWriter { [self] connection in
            writerQueued.store(false, ordering: .releasing)
            checkpoint(connection)
        }
    }

    /// Queues a copy on the checkpointer's thread, unless one is queued already.
    private func requestCopy() {
        guard !queued.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async { [self] in
            queued.store(false, ordering: .releasing)
            copy()
        }
    }

    /// A passive checkpoint, as SQLite's own: it copies what no reader still needs, and is busy
    /// while another copy runs (a later commit tries again).
    private func checkpoint(_ connection: OpaquePointer) {
        var log: Int32 = 0
        var done: Int32 = 0
        if sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK, log >= 0, done >= 0 {
            lastCopy.store(UInt64(UInt32(log)) << 32 | UInt64(UInt32(done)), ordering: .releasing)
        }
    }

    /// The pages in the log when the last checkpoint looked, and those it had copied; none when
    /// it saw a longer log, one before SQLite started it over.
    private func lastCheckpoint(of pages: Int32) -> (seen: Int32, copied: Int32) {
        let last = lastCopy.load(ordering: .acquiring)
        let seen = Int32(truncatingIfNeeded: last >> 32)
        return seen <= pages ? (seen, Int32(truncatingIfNeeded: last)) : (0, 0)
    }

    /// A checkpoint on the checkpointer's own connection.
    private func copy() {
        connection.withLock { connection in
            guard !alone.load(ordering: .acquiring) else { return }
            if connection == nil {
                var configuration = Configuration()
                configuration.busyMode = .timeout(5)
                // Opening reads the schema, and so finds the log: before that the connection
                // knows of none to copy.
                guard let opened = try? DatabaseQueue(path: path, configuration: configuration) else {
                    // Nothing lost: the writer goes back to copying the log itself.
                    alone.store(true, ordering: .releasing)
                    return
                }
                connection = opened
            }
            connection?.inDatabase { db in
                if let handle = db.sqliteConnection { checkpoint(handle) }
            }
        }
    }

    /// Closes the checkpointing connection: the store is let go. Waits for a copy in progress.
    func close() {
        alone.store(true, ordering: .releasing)
        connection.withLock { $0 = nil }
    }
}
