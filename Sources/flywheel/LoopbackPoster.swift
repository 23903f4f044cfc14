import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
private let streamSocket = Int32(SOCK_STREAM.rawValue)
private let systemConnect = Glibc.connect
#elseif canImport(Darwin)
import Darwin
private let streamSocket = SOCK_STREAM
private let systemConnect = Darwin.connect
#endif

/// Posts prepared HTTP/1.1 requests to a server on loopback, one kept-alive connection per
/// thread, with blocking sockets: a write and a read or two per request. The benchmark's client
/// shares the machine's cores with the server it measures; a general client (pools, tasks,
/// tracing, URL parsing per request) took a third of them, and that is the server's figure lost.
struct LoopbackPoster {
    let port: Int
    /// How long a connection waits to send or to hear back before the run fails.
    static let timeoutSeconds = 10

    /// What the connections saw: each request's latency in ms, and the requests not answered 200.
    struct Outcome: Sendable {
        var latencies: [Double] = []
        var failures: Int = 0
    }

    /// Sends `requests` over `connections` connections at once (each takes every n-th request),
    /// on threads of their own: the server's tasks keep the whole of Swift's pool.
    func run(_ requests: [[UInt8]], connections: Int) async throws -> Outcome {
        let results = Mutex<(Outcome, String?)>((Outcome(), nil))
        let group = DispatchGroup()
        for c in 0..<connections {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    let part = try self.send(stride(from: c, to: requests.count, by: connections).map { requests[$0] })
                    results.withLock { $0.0.latencies += part.latencies; $0.0.failures += part.failures }
                } catch {
                    results.withLock { $0.1 = "\(error)" }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        await withCheckedContinuation { done in group.notify(queue: .global()) { done.resume() } }
        return try results.withLock { result in
            if let error = result.1 { throw CommandFailure(error) }
            return result.0
        }
    }

    private func send(_ requests: [[UInt8]]) throws -> Outcome {
        var outcome = Outcome()
        var fd = try connect()
        defer { if fd >= 0 { close(fd) } }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        for request in requests {
            let sent = DispatchTime.now().uptimeNanoseconds
            var answer = try exchange(request, on: fd, buffer: &buffer)
            if answer == nil {
                // The server closed a kept-alive connection: a new one, and the request again.
                close(fd)
                fd = -1
                fd = try connect()
                answer = try exchange(request, on: fd, buffer: &buffer)
            }
            guard let (status, keepAlive) = answer else { throw CommandFailure("the server closed the connection twice running") }
            outcome.latencies.append(Double(DispatchTime.now().uptimeNanoseconds - sent) / 1_000_000)
            if status != 200 { outcome.failures += 1 }
            if !keepAlive {
                close(fd)
                fd = -1
                fd = try connect()
            }
        }
        return outcome
    }

    private func connect() throws -> Int32 {
        let fd = socket(AF_INET, streamSocket, 0)
        guard fd >= 0 else { throw CommandFailure("no socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: Self.timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { systemConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw CommandFailure("could not connect to port \(port): errno \(error)")
        }
        return fd
    }

    /// Writes the request and reads the whole response: its status and whether the connection
    /// stays open; nil when the server had closed the connection before answering.
    private func exchange(_ request: [UInt8], on fd: Int32, buffer: inout [UInt8]) throws -> (status: Int, keepAlive: Bool)? {
        var written = 0
        while written < request.count {
            let n = request.withUnsafeBytes { write(fd, $0.baseAddress! + written, request.count - written) }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { throw CommandFailure("the server took no request for \(Self.timeoutSeconds) s") }
            if n <= 0 { return nil }
            written += n
        }
        var received = 0
        var head: (end: Int, status: Int, keepAlive: Bool, length: Int)?
        while true {
            if received == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + received, $0.count - received) }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { throw CommandFailure("no answer from the server in \(Self.timeoutSeconds) s") }
            if n <= 0 {
                guard received == 0 else { throw CommandFailure("the server closed the connection in the middle of an answer") }
                return nil
            }
            received += n
            if head == nil, let end = Self.headerEnd(buffer, upTo: received) { head = try Self.head(buffer[0..<end], end: end) }
            if let head, received >= head.end + head.length { return (head.status, head.keepAlive) }
        }
    }

    /// The status line and the headers this client needs; an answer without a length (chunked)
    /// cannot be told from the next one on the connection, and the server always gives one. Read
    /// on bytes: the answer carries a dozen headers, and making text of them took a fifteenth of
    /// the cores this client shares with the server.
    private static func head(_ bytes: ArraySlice<UInt8>, end: Int) throws -> (end: Int, status: Int, keepAlive: Bool, length: Int) {
        let lines = bytes.split(separator: 0x0A).map { $0.last == 0x0D ? $0.dropLast() : $0 }
        let status = lines.first?.split(separator: 0x20).dropFirst().first.flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
        var length: Int?, keepAlive = true
        for line in lines.dropFirst() {
            if let value = value(of: "content-length", in: line) { length = Int(value) }
            if let value = value(of: "connection", in: line), value.lowercased().contains("close") { keepAlive = false }
        }
        guard let length else { throw CommandFailure("the server answered without a Content-Length") }
        return (end, status, keepAlive, length)
    }

    /// The value of the header `name` (in lower case) if `line` is that header, whatever its case.
    private static func value(of name: String, in line: ArraySlice<UInt8>) -> String? {
        let name = name.utf8
        guard line.count > name.count, line[line.startIndex + name.count] == UInt8(ascii: ":"),
              zip(line, name).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        var value = line.dropFirst(name.count + 1).drop(while: blank)
        while let last = value.last, blank(last) { value = value.dropLast() }
        return String(decoding: value, as: UTF8.self)
    }

    /// Where the head ends (after its blank line), if it has arrived.
    private static func headerEnd(_ buffer: [UInt8], upTo count: Int) -> Int? {
        guard count >= 4 else { return nil }
        for i in 3..<count where buffer[i] == 0x0A && buffer[i - 1] == 0x0D && buffer[i - 2] == 0x0A && buffer[i - 3] == 0x0D {
            return i + 1
        }
        return nil
    }

    /// A POST of `body` to `path` with the given headers, as bytes on the wire.
    static func post(_ path: String, headers: [(String, String)], body: [UInt8]) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }
}
