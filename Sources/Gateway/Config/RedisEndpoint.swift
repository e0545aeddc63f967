/// One Redis server from a `redis://[:password@]host:port[/db]` URL.
struct RedisEndpoint: Equatable, Sendable, CustomStringConvertible {
    /// Host name, IPv4 address, or IPv6 address without brackets.
    let host: String
    let port: UInt16
    /// Password for `AUTH`, percent-decoded; nil when the URL has none.
    let password: String?
    /// Database index for `SELECT`; 0 when the URL has no path.
    let database: Int

    /// Parses `text`, or throws the reason it is invalid as a phrase that completes
    /// "… is invalid because".
    init(parsing text: String) throws(RedisURLError) {
        let scheme = "redis://"
        if text.hasPrefix("rediss://") {
            throw RedisURLError(reason: "TLS to Redis (rediss://) is not supported; use redis:// on a trusted network")
        }
        guard text.hasPrefix(scheme) else {
            throw RedisURLError(reason: "it does not start with redis://; write redis://[:password@]host:port[/db]")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        if rest.contains("?") || rest.contains("#") {
            throw RedisURLError(reason: "query parameters and fragments are not supported; write redis://[:password@]host:port[/db]")
        }

        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard userInfo.hasPrefix(":") else {
                throw RedisURLError(reason: "a user name is not supported; write the password alone after a colon, as redis://:PASSWORD@host:port")
            }
            guard let decoded = RedisEndpoint.percentDecode(userInfo.dropFirst()), !decoded.isEmpty else {
                throw RedisURLError(reason: "the password is empty or has an invalid percent escape")
            }
            password = decoded
        } else {
            password = nil
        }

        let authority: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let databaseText = rest[rest.index(after: slash)...]
            guard databaseText.allSatisfy({ $0.isASCII && $0.isNumber }), let database = Int(databaseText),
                database <= 1_000_000
            else {
                throw RedisURLError(reason: "the database \"\(databaseText)\" is not a number from 0 to 1000000")
            }
            self.database = database
        } else {
            authority = rest
            database = 0
        }

        let hostText: Substring
        let portText: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]"), authority[authority.index(after: close)...].hasPrefix(":") else {
                throw RedisURLError(reason: "an IPv6 host must be in brackets with the port after them, such as redis://[::1]:6379")
            }
            hostText = authority[authority.index(after: authority.startIndex)..<close]
            portText = authority[authority.index(close, offsetBy: 2)...]
        } else {
            guard let colon = authority.lastIndex(of: ":") else {
                throw RedisURLError(reason: "it has no port; add one, such as redis://127.0.0.1:6379")
            }
            hostText = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
            guard !hostText.contains(":") else {
                throw RedisURLError(reason: "an IPv6 host must be in brackets, such as redis://[::1]:6379")
            }
        }
        guard !hostText.isEmpty else {
            throw RedisURLError(reason: "it has no host; write redis://host:port")
        }
        let hostCharacters = hostText.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || ".-:".unicodeScalars.contains(scalar))
        }
        guard hostCharacters else {
            throw RedisURLError(reason: "the host \"\(hostText)\" contains characters that no host name or address has")
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText),
            (1...65_535).contains(port)
        else {
            throw RedisURLError(reason: "the port \"\(portText)\" is not a number from 1 to 65535")
        }
        host = String(hostText)
        self.port = UInt16(port)
    }

    /// The URL with the password replaced by `***`, safe to log.
    var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let auth = password == nil ? "" : ":***@"
        return "redis://\(auth)\(hostPart):\(port)/\(database)"
    }

    /// Returns `text` with anything between `://` and the last `@` replaced by `:***`, so a URL that
    /// failed to parse can still be shown without its password.
    static func maskingPassword(in text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text.lastIndex(of: "@"),
            at > schemeEnd.upperBound
        else { return text }
        return String(text[..<schemeEnd.upperBound]) + ":***" + String(text[at...])
    }

    /// Decodes `%XX` escapes; returns nil for a malformed escape or bytes that are not UTF-8.
    private static func percentDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// Reason a Redis URL is invalid, as a phrase that completes "… is invalid because".
struct RedisURLError: Error, Equatable {
    let reason: String
}
