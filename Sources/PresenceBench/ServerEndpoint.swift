#if canImport(Glibc)
import Glibc
#endif

/// A failure the generator reports to the user and exits on, such as an invalid option or a
/// server that could not be reached.
struct BenchError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A server the generator connects to, parsed from a `ws://HOST:PORT/PATH` URL. HOST is an IPv4
/// literal, a bracketed IPv6 literal or `localhost`; the generator does no DNS lookups.
struct ServerEndpoint {
    var url: String
    /// `HOST:PORT` as written in the URL, sent as the Host header.
    var hostHeader: String
    /// Path and query of the upgrade request.
    var path: String
    var address: sockaddr_storage
    var addressLength: socklen_t

    /// Parses `url`; a non-nil `batchMs` adds `batch_ms=N` to its query.
    init(url: String, batchMs: Int?) throws(BenchError) {
        let scheme = "ws://"
        guard url.hasPrefix(scheme) else {
            if url.hasPrefix("wss://") { throw BenchError("\(url): wss:// is not supported; use a ws:// URL") }
            throw BenchError("\(url) is not a ws:// URL; write it as ws://127.0.0.1:8080/v1/ws")
        }
        let rest = url.dropFirst(scheme.count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        var path = slash < rest.endIndex ? String(rest[slash...]) : "/v1/ws"
        if let batchMs {
            path += (path.contains("?") ? "&" : "?") + "batch_ms=\(batchMs)"
        }

        let host: String
        let portText: String
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw BenchError("\(url): missing ] after the IPv6 address") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let afterBracket = authority[authority.index(after: close)...]
            portText = afterBracket.hasPrefix(":") ? String(afterBracket.dropFirst()) : "80"
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = String(authority[authority.index(after: colon)...])
        } else {
            host = authority
            portText = "80"
        }
        guard let port = UInt16(portText), port > 0 else {
            throw BenchError("\(url): port \"\(portText)\" is not a number from 1 to 65535")
        }

        var storage = sockaddr_storage()
        var length: socklen_t = 0
        let literal = host == "localhost" ? "127.0.0.1" : host
        let parsed: Bool = withUnsafeMutableBytes(of: &storage) { raw in
            if literal.contains(":") {
                let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                address.pointee.sin6_family = sa_family_t(AF_INET6)
                address.pointee.sin6_port = port.bigEndian
                length = socklen_t(MemoryLayout<sockaddr_in6>.size)
                return inet_pton(AF_INET6, literal, &address.pointee.sin6_addr) == 1
            }
            let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
            address.pointee.sin_family = sa_family_t(AF_INET)
            address.pointee.sin_port = port.bigEndian
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            return inet_pton(AF_INET, literal, &address.pointee.sin_addr) == 1
        }
        guard parsed else {
            throw BenchError("\(url): host \"\(host)\" is not an IP address; use 127.0.0.1, [::1] or localhost")
        }
        self.url = url
        self.hostHeader = authority
        self.path = path
        self.address = storage
        self.addressLength = length
    }

    var family: Int32 { Int32(address.ss_family) }

    /// Whether the server's address is IPv4 in 127.0.0.0/8, where every source address is local.
    var isIPv4Loopback: Bool {
        guard family == AF_INET else { return false }
        return withUnsafeBytes(of: address) { raw in
            let ipv4 = raw.load(as: sockaddr_in.self)
            return UInt32(bigEndian: ipv4.sin_addr.s_addr) >> 24 == 127
        }
    }
}
