import COpenSSL
import Foundation
@testable import Transport

#if canImport(Glibc)
import Glibc
#endif

/// A failure of the test client, with what it was doing.
struct RawClientError: Error, CustomStringConvertible {
    let description: String
}

/// A blocking loopback client for driving the server byte by byte, plain or over TLS.
///
/// Every read has a timeout (`SO_RCVTIMEO`), so a server that stops responding fails the test
/// instead of hanging it.
final class RawClient {
    let fd: Int32
    private var tlsContext: OpaquePointer?
    private var tlsSession: OpaquePointer?
    private var buffered: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; `receiveBufferBytes` shrinks the socket's receive buffer
    /// before connecting (the kernel rounds it up to its minimum).
    init(port: UInt16, readTimeoutMs: Int = 5000, receiveBufferBytes: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawClientError(description: "socket failed: errno \(errno)") }
        var timeout = timeval(tv_sec: readTimeoutMs / 1000, tv_usec: (readTimeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw RawClientError(description: "connect to 127.0.0.1:\(port) failed: errno \(code)")
        }
    }

    deinit {
        if let tlsSession { copenssl_session_free(tlsSession) }
        if let tlsContext { copenssl_context_free(tlsContext) }
        close(fd)
    }

    /// Runs the TLS client handshake on the connected socket without verifying the certificate.
    func startTLS() throws {
        guard let context = copenssl_insecure_client_context(),
              let session = copenssl_session_new(context, fd, 0) else {
            throw RawClientError(description: "cannot create a TLS client session")
        }
        tlsContext = context
        tlsSession = session
        let result = copenssl_handshake(session)
        guard result == 1 else {
            var error = [CChar](repeating: 0, count: 256)
            copenssl_last_error(&error, error.count)
            throw RawClientError(description: "TLS handshake failed with \(result): \(String(cCharacters: error))")
        }
    }

    // MARK: - Bytes

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count: Int = bytes[offset...].withUnsafeBytes { buffer in
                if let tlsSession {
                    return Int(copenssl_write(tlsSession, buffer.baseAddress, Int32(buffer.count)))
                }
                return Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { throw RawClientError(description: "send failed: result \(count), errno \(errno)") }
            offset += count
        }
    }

    /// Sends `chunk` over and over until a send blocks past the send timeout or `limit` bytes went
    /// out, and returns the number of bytes sent. Plain connections only.
    func sendUntilBlocked(_ chunk: [UInt8], limit: Int) -> Int {
        var sent = 0
        while sent < limit {
            let count = chunk.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }
            sent += count
            if count < chunk.count {
                // A partial send means the buffers are full; the next call blocks or times out.
                let rest = Array(chunk[count...])
                let more = rest.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard more > 0 else { break }
                sent += more
            }
        }
        return sent
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    /// Reads at least one byte into the buffer; returns false at end of stream or on reset.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count: Int = chunk.withUnsafeMutableBytes { buffer in
            if let tlsSession {
                return Int(copenssl_read(tlsSession, buffer.baseAddress, Int32(buffer.count)))
            }
            return recv(fd, buffer.baseAddress, buffer.count, 0)
        }
        if count > 0 {
            buffered.append(contentsOf: chunk[0..<count])
            return true
        }
        if tlsSession != nil {
            if count == Int(COPENSSL_WANT_READ) { throw RawClientError(description: "read timed out") }
            return false
        }
        if count == 0 || errno == ECONNRESET { return false }
        if errno == EAGAIN { throw RawClientError(description: "read timed out") }
        throw RawClientError(description: "read failed: errno \(errno)")
    }

    /// Returns true when the server closes the connection before sending anything more, and false
    /// when more bytes arrive. Throws when the connection stays open past the read timeout.
    func readEndOfStream() throws -> Bool {
        if !buffered.isEmpty { return false }
        return try !fill()
    }

    /// Returns the bytes buffered or, when there are none, the next bytes read; nil at end of stream.
    func readChunk() throws -> [UInt8]? {
        if buffered.isEmpty, try !fill() { return nil }
        defer { buffered = [] }
        return buffered
    }

    /// Reads and discards bytes until the server closes the connection; returns how many bytes
    /// arrived, or throws when the read timeout passes first.
    func discardUntilEndOfStream() throws -> Int {
        while try fill() {}
        defer { buffered = [] }
        return buffered.count
    }

    // MARK: - HTTP

    struct Response {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: String

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// Reads one response head and, unless it is a 101 or `headOnly` is set (for a HEAD request),
    /// a body of `Content-Length` bytes.
    func readResponse(headOnly: Bool = false) throws -> Response {
        var headEnd: Int?
        while headEnd == nil {
            if let range = findSubsequence([0x0D, 0x0A, 0x0D, 0x0A]) {
                headEnd = range
            } else if try !fill() {
                throw RawClientError(description: "connection closed inside a response head: \(String(decoding: buffered, as: UTF8.self))")
            }
        }
        let headText = String(decoding: buffered[0..<headEnd!], as: UTF8.self)
        buffered.removeFirst(headEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw RawClientError(description: "malformed status line in \(headText)")
        }
        let headers = lines.map { line -> (name: String, value: String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        var response = Response(status: status, headers: headers, body: "")
        if status != 101, !headOnly, let length = response.header("Content-Length").flatMap(Int.init) {
            while buffered.count < length {
                if try !fill() { throw RawClientError(description: "connection closed inside a response body") }
            }
            response.body = String(decoding: buffered[0..<length], as: UTF8.self)
            buffered.removeFirst(length)
        }
        return response
    }

    private func findSubsequence(_ needle: [UInt8]) -> Int? {
        guard buffered.count >= needle.count else { return nil }
        for start in 0...(buffered.count - needle.count) where Array(buffered[start..<(start + needle.count)]) == needle {
            return start
        }
        return nil
    }

    /// Sends a GET with the upgrade headers (plus `extraHeaders`) and returns the response.
    func upgrade(path: String = "/echo", extraHeaders: String = "") throws -> Response {
        try send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extraHeaders)\r\n")
        return try readResponse()
    }

    // MARK: - WebSocket

    /// Reads one server frame, or nil when the stream ends before a whole frame arrives.
    func readFrame() throws -> ServerFrame? {
        while true {
            if let (frame, length) = ServerFrameParser.parse(buffered) {
                buffered.removeFirst(length)
                return frame
            }
            if try !fill() { return nil }
        }
    }

    /// Reads frames until a data or close frame arrives and returns it, skipping pings and pongs
    /// without replying.
    func readDataFrame() throws -> ServerFrame? {
        while let frame = try readFrame() {
            if frame.opcode == 0x1 || frame.opcode == 0x2 || frame.opcode == 0x0 || frame.opcode == 0x8 { return frame }
        }
        return nil
    }
}
