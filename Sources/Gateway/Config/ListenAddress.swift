import Glibc

/// A numeric listen address from `host:port` or `[v6]:port`, port 0 to 65535 (0 lets the kernel
/// choose). Host names other than `localhost` are rejected so that start-up never waits on DNS.
struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    /// IPv4 or IPv6 address text without brackets, or `localhost`.
    let host: String
    let port: UInt16
    let isIPv6: Bool

    /// Parses `text`, or throws the reason it is invalid as a phrase that completes
    /// "… is invalid because".
    init(parsing text: String) throws(ListenAddressError) {
        let hostText: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ListenAddressError(reason: "the IPv6 address has no closing bracket; write it as [::1]:8080")
            }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw ListenAddressError(reason: "it has no port after the bracket; write it as [::1]:8080")
            }
            portText = rest.dropFirst()
            isIPv6 = true
        } else {
            let colons = text.filter { $0 == ":" }.count
            if colons > 1 {
                throw ListenAddressError(
                    reason: "an IPv6 address must be written in brackets with the port after them, such as [::1]:8080")
            }
            guard let colon = text.firstIndex(of: ":") else {
                throw ListenAddressError(reason: "it has no port; write it as host:port, such as 127.0.0.1:8080")
            }
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            isIPv6 = false
        }

        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
            let port = Int(portText)
        else {
            throw ListenAddressError(reason: "the port \"\(portText)\" is not a number; use 0 to 65535")
        }
        guard port <= 65_535 else {
            throw ListenAddressError(reason: "the port \(port) is out of range; use 0 to 65535")
        }
        self.port = UInt16(port)

        guard !hostText.isEmpty else {
            throw ListenAddressError(
                reason: "it has no host; use 127.0.0.1 for this machine only or 0.0.0.0 for every interface")
        }
        host = String(hostText)
        if host == "localhost" && !isIPv6 { return }
        var probe = in6_addr()
        let parsed = host.withCString { inet_pton(isIPv6 ? AF_INET6 : AF_INET, $0, &probe) }
        guard parsed == 1 else {
            let kind = isIPv6 ? "an IPv6 address" : "an IPv4 address or localhost"
            throw ListenAddressError(reason: "the host \"\(host)\" is not \(kind); host names are not resolved")
        }
    }

    var description: String {
        isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether only this machine can connect: 127.0.0.0/8, ::1 or localhost.
    var isLoopback: Bool {
        if isIPv6 { return host == "::1" || host == "0:0:0:0:0:0:0:1" }
        return host == "localhost" || host.hasPrefix("127.")
    }
}

/// Reason a listen address is invalid, as a phrase that completes "… is invalid because".
struct ListenAddressError: Error, Equatable {
    let reason: String
}
