import COpenSSL
import Foundation

/// Validation of the client's opening handshake (RFC 6455 section 4.2.1) and the 101 response.
public enum WebSocketHandshake {
    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Returns the 101 response, or the error response: 405 for a method other than GET, 426 for a
    /// missing upgrade or a version other than 13, 400 for a malformed key, 403 for an origin that
    /// `allowedOrigins` does not list.
    public static func validate(_ head: HTTPRequestHead, allowedOrigins: [String]) -> Result<HTTPResponse, HTTPResponseError> {
        guard head.method == "GET" else {
            return .failure(HTTPResponseError(.text(405, "WebSocket upgrades use GET, not \(head.method)", headers: [("Allow", "GET")])))
        }
        guard head.version == "HTTP/1.1" else {
            return .failure(HTTPResponseError(.text(400, "WebSocket upgrades need HTTP/1.1")))
        }
        guard head.headerContainsToken("Upgrade", "websocket"), head.headerContainsToken("Connection", "upgrade") else {
            return .failure(HTTPResponseError(.text(426, "this endpoint speaks WebSocket: send Upgrade: websocket and Connection: Upgrade",
                                                    headers: [("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")])))
        }
        guard head.header("Sec-WebSocket-Version")?.trimmingCharacters(in: .whitespaces) == "13" else {
            let sent = head.header("Sec-WebSocket-Version") ?? "none"
            return .failure(HTTPResponseError(.text(426, "WebSocket version \(sent) is not supported; use 13",
                                                    headers: [("Sec-WebSocket-Version", "13")])))
        }
        guard let key = head.header("Sec-WebSocket-Key")?.trimmingCharacters(in: .whitespaces),
              let decoded = Data(base64Encoded: key), decoded.count == 16 else {
            return .failure(HTTPResponseError(.text(400, "Sec-WebSocket-Key must be 16 bytes in base64")))
        }
        if let origin = head.header("Origin"), !isAllowed(origin: origin, allowedOrigins) {
            return .failure(HTTPResponseError(.text(403, "origin \(origin) is not allowed; add it to [server] allowed_origins")))
        }
        let response = HTTPResponse(status: 101, headers: [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", acceptValue(forKey: key)),
        ])
        return .success(response)
    }

    static func isAllowed(origin: String, _ allowed: [String]) -> Bool {
        allowed.contains { $0 == "*" || $0.caseInsensitiveCompare(origin) == .orderedSame }
    }

    /// base64(SHA-1(key + GUID)), as section 4.2.2 defines.
    public static func acceptValue(forKey key: String) -> String {
        let input = Array((key + acceptGUID).utf8)
        var digest = [UInt8](repeating: 0, count: 20)
        copenssl_sha1(input, input.count, &digest)
        return Data(digest).base64EncodedString()
    }
}

/// An HTTP response that ends a request as an error.
public struct HTTPResponseError: Error {
    public let response: HTTPResponse
    public init(_ response: HTTPResponse) { self.response = response }
}
