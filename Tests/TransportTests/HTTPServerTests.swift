import XCTest
@testable import Transport

final class HTTPServerTests: XCTestCase {
    private var server: TestServer!

    override func setUpWithError() throws {
        server = try TestServer()
    }

    override func tearDown() {
        server.stop()
        server = nil
    }

    func testServerBindsEphemeralPort() {
        XCTAssertNotEqual(server.port, 0)
        XCTAssertEqual(server.server.boundAddress?.host, "127.0.0.1")
    }

    func testServerAnswersSeveralRequestsOnOneConnection() throws {
        let client = try RawClient(port: server.port)
        for _ in 0..<3 {
            try client.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.body, "hello\n")
            XCTAssertNil(response.header("Connection"))
        }
        try client.send("GET /missing HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 404)
        XCTAssertEqual(server.server.connectionCount, 1)
    }

    func testServerAnswersPipelinedRequestsInOrder() throws {
        let client = try RawClient(port: server.port)
        try client.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        XCTAssertEqual(try client.readResponse().status, 404)
        XCTAssertEqual(try client.readResponse().status, 200)
    }

    func testServerClosesAfterConnectionClose() throws {
        let client = try RawClient(port: server.port)
        try client.send("GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertTrue(try client.readEndOfStream())
    }

    func testServerClosesHTTP10WithoutKeepAlive() throws {
        let client = try RawClient(port: server.port)
        try client.send("GET /hello HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        XCTAssertTrue(try client.readEndOfStream())
    }

    func testServerKeepsHTTP10WithKeepAlive() throws {
        let client = try RawClient(port: server.port)
        try client.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        try client.send("GET /hello HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        XCTAssertTrue(try client.readEndOfStream())
    }

    func testServerAnswersHeadWithoutBody() throws {
        let client = try RawClient(port: server.port)
        try client.send("HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
        // The HEAD response announces 6 bytes but sends none, so the next bytes are the 404.
        let head = try client.readResponse(headOnly: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Length"), "6")
        XCTAssertEqual(try client.readResponse().status, 404)
    }

    func testServerAnswers404ForUnknownPath() throws {
        let client = try RawClient(port: server.port)
        try client.send("GET /nothing/here?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.body, "no route for /nothing/here\n")
    }

    func testServerAnswers405ForPostToWebSocketPath() throws {
        let client = try RawClient(port: server.port)
        try client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.header("Allow"), "GET")
        XCTAssertTrue(try client.readEndOfStream())
    }

    func testServerAnswers426ForPlainGetOnWebSocketPath() throws {
        let client = try RawClient(port: server.port)
        try client.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 426)
        XCTAssertEqual(response.header("Sec-WebSocket-Version"), "13")
    }

    func testServerAnswers426ForOtherWebSocketVersion() throws {
        let client = try RawClient(port: server.port)
        try client.send("GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 426)
        XCTAssertEqual(response.header("Sec-WebSocket-Version"), "13")
        XCTAssertTrue(try client.readEndOfStream())
    }

    func testServerAnswers431ForHugeHead() throws {
        let client = try RawClient(port: server.port)
        try client.send("GET /hello HTTP/1.1\r\nHost: a\r\nX-Pad: " + String(repeating: "p", count: 9000) + "\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 431)
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertTrue(try client.readEndOfStream())
    }

    func testServerAnswers431ForEndlessHead() throws {
        let client = try RawClient(port: server.port)
        // The head never ends, so the server must respond once it has more than 8 KiB.
        try client.send("GET /hello HTTP/1.1\r\nHost: a\r\nX-Pad: " + String(repeating: "p", count: 8300))
        XCTAssertEqual(try client.readResponse().status, 431)
        XCTAssertTrue(try client.readEndOfStream())
    }

    func testServerAnswers400ForMalformedRequest() throws {
        for request in ["NOT A REQUEST\r\n\r\n", "GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n"] {
            let client = try RawClient(port: server.port)
            try client.send(request)
            XCTAssertEqual(try client.readResponse().status, 400, "request \(request.debugDescription)")
            XCTAssertTrue(try client.readEndOfStream(), "request \(request.debugDescription)")
        }
    }

    func testServerAnswers400ForInvalidContentLength() throws {
        let client = try RawClient(port: server.port)
        try client.send("POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 400)
    }

    func testServerAnswers413ForLargeBody() throws {
        let client = try RawClient(port: server.port)
        try client.send("POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 413)
    }

    func testServerReadsBodyBeforeNextRequest() throws {
        let client = try RawClient(port: server.port)
        try client.send("POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n")
        usleep(50_000)
        try client.send("ab")
        usleep(50_000)
        try client.send("cdeGET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        XCTAssertEqual(try client.readResponse().status, 404)
    }

    func testServerSurvivesBadClients() throws {
        for request in ["\u{0}\u{1}\u{2}\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", String(repeating: "\r\n", count: 5000)] {
            let client = try RawClient(port: server.port)
            try client.send(request)
            _ = try? client.readResponse()
        }
        let client = try RawClient(port: server.port)
        try client.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
    }

    func testServerClosesIdleConnectionAfterHandshakeTimeout() throws {
        server.stop()
        server = try TestServer { $0.handshakeTimeoutMs = 200 }
        let client = try RawClient(port: server.port)
        try client.send("GET /hel")
        XCTAssertTrue(try client.readEndOfStream())
        XCTAssertTrue(server.waitForNoConnections())
    }

    func testServerStopsReadingWhileResponsesBackUp() throws {
        server.stop()
        server = try TestServer { $0.sendQueueBytes = 64 * 1024 }
        // The client pipelines requests and reads nothing. Once the responses fill the socket
        // buffers and the send queue, the server must stop reading requests, so the client's
        // sends block instead of the server queuing responses without bound.
        let client = try RawClient(port: server.port, readTimeoutMs: 1000, receiveBufferBytes: 4096)
        let request = Array("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        let limit = 16 << 20
        let sent = client.sendUntilBlocked(request, limit: limit)
        XCTAssertLessThan(sent, limit, "the server read 16 MiB of pipelined requests from a client that reads nothing")

        // Once the client reads, the server resumes and responds to every complete request. The
        // responses are counted by their status lines, which is fast enough for many thousands.
        let complete = sent / request.count
        let statusLine = Array("HTTP/1.1 ".utf8)
        let okLine = Array("HTTP/1.1 200 OK\r\n".utf8)
        var responses = 0
        var okResponses = 0
        var carry: [UInt8] = []
        while responses < complete, let chunk = try client.readChunk() {
            let bytes = carry + chunk
            responses += occurrences(of: statusLine, in: bytes)
            okResponses += occurrences(of: okLine, in: bytes)
            carry = Array(bytes.suffix(okLine.count - 1))
            // A status line inside the carried tail was counted already; count it once.
            responses -= occurrences(of: statusLine, in: carry)
            okResponses -= occurrences(of: okLine, in: carry)
        }
        XCTAssertEqual(responses, complete)
        XCTAssertEqual(okResponses, complete)
    }

    private func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> Int {
        guard haystack.count >= needle.count else { return 0 }
        var count = 0
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                count += 1
                index += needle.count
            } else {
                index += 1
            }
        }
        return count
    }

    func testServerCountsConnectionsDown() throws {
        do {
            let client = try RawClient(port: server.port)
            try client.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
            _ = try client.readResponse()
        }
        XCTAssertTrue(server.waitForNoConnections())
    }
}
