import XCTest
@testable import Transport

final class WebSocketHandshakeTests: XCTestCase {
    /// The example key and accept value of RFC 6455 section 1.3.
    private let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="
    private let sampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    private func request(
        method: String = "GET",
        version: String = "HTTP/1.1",
        headers: [(String, String)]? = nil,
        replacing overrides: [(String, String?)] = []
    ) -> HTTPRequestHead {
        var fields: [(String, String)] = headers ?? [
            ("Host", "example.test"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", sampleKey),
            ("Sec-WebSocket-Version", "13"),
        ]
        for (name, value) in overrides {
            fields.removeAll { $0.0.lowercased() == name.lowercased() }
            if let value { fields.append((name, value)) }
        }
        return HTTPRequestHead(method: method, target: "/v1/ws", version: version,
                               headers: fields.map { (name: $0.0, value: $0.1) })
    }

    private func status(_ head: HTTPRequestHead, origins: [String] = ["*"]) -> Int {
        switch WebSocketHandshake.validate(head, allowedOrigins: origins) {
        case .success(let response): return response.status
        case .failure(let error): return error.response.status
        }
    }

    private func response(_ head: HTTPRequestHead, origins: [String] = ["*"]) -> HTTPResponse {
        switch WebSocketHandshake.validate(head, allowedOrigins: origins) {
        case .success(let response): return response
        case .failure(let error): return error.response
        }
    }

    private func header(_ response: HTTPResponse, _ name: String) -> String? {
        response.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    func testAcceptValueMatchesRFCExample() {
        XCTAssertEqual(WebSocketHandshake.acceptValue(forKey: sampleKey), sampleAccept)
    }

    func testValidRequestGets101WithAccept() {
        let result = response(request())
        XCTAssertEqual(result.status, 101)
        XCTAssertEqual(header(result, "Sec-WebSocket-Accept"), sampleAccept)
        XCTAssertEqual(header(result, "Upgrade")?.lowercased(), "websocket")
        XCTAssertEqual(header(result, "Connection")?.lowercased(), "upgrade")
        let text = String(decoding: result.serialized(keepAlive: true), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), text)
        XCTAssertFalse(text.contains("Content-Length"), text)
    }

    func testTokensAreCaseInsensitive() {
        let head = request(replacing: [
            ("Upgrade", "WebSocket"),
            ("Connection", "keep-alive, UPGRADE"),
        ])
        XCTAssertEqual(status(head), 101)
        let lowerNames = request(headers: [
            ("host", "a"), ("upgrade", "websocket"), ("connection", "upgrade"),
            ("sec-websocket-key", sampleKey), ("sec-websocket-version", "13"),
        ])
        XCTAssertEqual(status(lowerNames), 101)
    }

    func testOtherVersionsGet426WithVersionHeader() {
        for version: String? in ["8", "12", "14", "", nil] {
            let result = response(request(replacing: [("Sec-WebSocket-Version", version)]))
            XCTAssertEqual(result.status, 426, "version \(version ?? "absent")")
            XCTAssertEqual(header(result, "Sec-WebSocket-Version"), "13", "version \(version ?? "absent")")
        }
    }

    func testMissingUpgradeGets426() {
        XCTAssertEqual(status(request(replacing: [("Upgrade", nil)])), 426)
        XCTAssertEqual(status(request(replacing: [("Upgrade", "h2c")])), 426)
        XCTAssertEqual(status(request(replacing: [("Connection", "keep-alive")])), 426)
        XCTAssertEqual(header(response(request(replacing: [("Upgrade", nil)])), "Sec-WebSocket-Version"), "13")
    }

    func testBadKeyGets400() {
        for key: String? in [nil, "", "not base64!", "dGhlIHNhbXBsZQ==", "dGhlIHNhbXBsZSBub25jZSBsb25nZXI="] {
            XCTAssertEqual(status(request(replacing: [("Sec-WebSocket-Key", key)])), 400, "key \(key ?? "absent")")
        }
    }

    func testOtherMethodsGet405() {
        let result = response(request(method: "POST"))
        XCTAssertEqual(result.status, 405)
        XCTAssertEqual(header(result, "Allow"), "GET")
    }

    func testHTTP10Gets400() {
        XCTAssertEqual(status(request(version: "HTTP/1.0")), 400)
    }

    func testOriginNotListedGets403() {
        let head = request(replacing: [("Origin", "https://evil.test")])
        XCTAssertEqual(status(head, origins: ["https://app.test"]), 403)
        XCTAssertEqual(status(head, origins: []), 403)
        let message = String(decoding: response(head, origins: []).body, as: UTF8.self)
        XCTAssertTrue(message.contains("https://evil.test"), message)
    }

    func testOriginListedOrWildcardIsAllowed() {
        let head = request(replacing: [("Origin", "https://App.test")])
        XCTAssertEqual(status(head, origins: ["https://other.test", "https://app.test"]), 101)
        XCTAssertEqual(status(head, origins: ["*"]), 101)
    }

    func testMissingOriginIsAllowed() {
        XCTAssertEqual(status(request(), origins: ["https://app.test"]), 101)
    }
}
