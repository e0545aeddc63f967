import XCTest
@testable import Transport

final class WebSocketServerTests: XCTestCase {
    private var server: TestServer!

    override func tearDown() {
        server?.stop()
        server = nil
    }

    private func start(configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        server = try TestServer(configure: configure)
    }

    /// Connects and completes the upgrade, failing the test unless the response is 101.
    private func connect(receiveBufferBytes: Int32? = nil) throws -> RawClient {
        let client = try RawClient(port: server.port, receiveBufferBytes: receiveBufferBytes)
        let response = try client.upgrade()
        XCTAssertEqual(response.status, 101)
        XCTAssertEqual(response.header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        return client
    }

    // MARK: - Messages

    func testEchoReturnsMessagesOfEverySize() throws {
        try start()
        let client = try connect()
        for size in [0, 1, 125, 126, 65535, 65536] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
            try client.send(ClientFrames.frame(opcode: 0x2, payload: payload))
            let frame = try XCTUnwrap(try client.readFrame(), "echo of \(size) bytes")
            XCTAssertEqual(frame.opcode, 0x2)
            XCTAssertTrue(frame.fin)
            XCTAssertTrue(frame.payload == payload, "echo of \(size) bytes differs")
        }
    }

    func testEchoReassemblesFragmentsAroundPing() throws {
        try start()
        let client = try connect()
        try client.send(ClientFrames.text("Hel", fin: false))
        try client.send(ClientFrames.frame(opcode: 0x9, payload: Array("are you there".utf8)))
        try client.send(ClientFrames.frame(opcode: 0x0, payload: Array("lo".utf8)))
        let pong = try XCTUnwrap(try client.readFrame())
        XCTAssertEqual(pong.opcode, 0xA)
        XCTAssertEqual(pong.text, "are you there")
        let echo = try XCTUnwrap(try client.readFrame())
        XCTAssertEqual(echo.opcode, 0x1)
        XCTAssertEqual(echo.text, "Hello")
    }

    func testUpgradeRequestBytesAfterHeadAreDecoded() throws {
        try start()
        let client = try RawClient(port: server.port)
        let request = "GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try client.send(Array(request.utf8) + ClientFrames.text("early"))
        XCTAssertEqual(try client.readResponse().status, 101)
        XCTAssertEqual(try client.readFrame()?.text, "early")
    }

    func testOriginNotAllowedGets403() throws {
        try start { $0.allowedOrigins = ["https://app.test"] }
        let client = try RawClient(port: server.port)
        XCTAssertEqual(try client.upgrade(extraHeaders: "Origin: https://evil.test\r\n").status, 403)
        XCTAssertTrue(try client.readEndOfStream())
        let allowed = try RawClient(port: server.port)
        XCTAssertEqual(try allowed.upgrade(extraHeaders: "Origin: https://app.test\r\n").status, 101)
    }

    // MARK: - Ping and close

    func testServerAnswersPingWithSamePayload() throws {
        try start()
        let client = try connect()
        let payload = (0..<125).map { UInt8($0) }
        try client.send(ClientFrames.frame(opcode: 0x9, payload: payload))
        let pong = try XCTUnwrap(try client.readFrame())
        XCTAssertEqual(pong.opcode, 0xA)
        XCTAssertEqual(pong.payload, payload)
    }

    func testServerIgnoresUnsolicitedPong() throws {
        try start()
        let client = try connect()
        try client.send(ClientFrames.frame(opcode: 0xA, payload: [1, 2]))
        try client.send(ClientFrames.text("after pong"))
        XCTAssertEqual(try client.readFrame()?.text, "after pong")
    }

    func testClientCloseIsEchoedAndSocketClosed() throws {
        try start()
        let client = try connect()
        let id = try XCTUnwrap(server.firstWebSocketID())
        try client.send(ClientFrames.close(code: 1000, reason: "bye"))
        let close = try XCTUnwrap(try client.readFrame())
        XCTAssertEqual(close.opcode, 0x8)
        XCTAssertEqual(close.closeCode, 1000)
        XCTAssertTrue(try client.readEndOfStream())
        XCTAssertTrue(server.log.wait { $0.closeReport(id) != nil })
        XCTAssertEqual(server.log.closeReport(id)?.code, 1000)
        XCTAssertEqual(server.log.closeReport(id)?.reason, "bye")
        XCTAssertTrue(server.waitForNoConnections())
    }

    func testEmptyCloseIsEchoedEmpty() throws {
        try start()
        let client = try connect()
        let id = try XCTUnwrap(server.firstWebSocketID())
        try client.send(ClientFrames.frame(opcode: 0x8, payload: []))
        let close = try XCTUnwrap(try client.readFrame())
        XCTAssertEqual(close.opcode, 0x8)
        XCTAssertEqual(close.payload, [])
        XCTAssertTrue(try client.readEndOfStream())
        XCTAssertTrue(server.log.wait { $0.closeReport(id) != nil })
        XCTAssertEqual(server.log.closeReport(id)?.code, 1005)
    }

    func testServerCloseWaitsForClientAnswer() throws {
        try start()
        let client = try connect()
        let id = try XCTUnwrap(server.firstWebSocketID())
        try client.send(ClientFrames.text("close:4001"))
        let close = try XCTUnwrap(try client.readFrame())
        XCTAssertEqual(close.closeCode, 4001)
        XCTAssertEqual(String(decoding: close.payload.dropFirst(2), as: UTF8.self), "requested by test")
        XCTAssertEqual(server.server.connectionCount, 1, "the server waits for the client's close frame")
        try client.send(ClientFrames.close(code: 4001))
        XCTAssertTrue(try client.readEndOfStream())
        XCTAssertTrue(server.log.wait { $0.closeReport(id) != nil })
        XCTAssertEqual(server.log.closeReport(id)?.code, 4001)
    }

    func testServerCloseTimesOutWithoutClientAnswer() throws {
        try start { $0.closeTimeoutMs = 200 }
        let client = try connect()
        try client.send(ClientFrames.text("close:1000"))
        XCTAssertEqual(try client.readFrame()?.closeCode, 1000)
        XCTAssertTrue(try client.readEndOfStream())
        XCTAssertTrue(server.waitForNoConnections())
    }

    func testDataAfterCloseIsIgnored() throws {
        try start()
        let client = try connect()
        try client.send(ClientFrames.close(code: 1000) + ClientFrames.text("late"))
        XCTAssertEqual(try client.readFrame()?.opcode, 0x8)
        XCTAssertTrue(try client.readEndOfStream())
        XCTAssertFalse(server.log.all.contains(where: {
            if case .message(_, .text(let payload)) = $0 { return payload == Array("late".utf8) }
            return false
        }))
    }

    // MARK: - Protocol errors

    private func expectClose(_ code: UInt16, after bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws {
        let client = try connect()
        try client.send(bytes)
        let frame = try client.readDataFrame()
        XCTAssertEqual(frame?.opcode, 0x8, file: file, line: line)
        XCTAssertEqual(frame?.closeCode, code, file: file, line: line)
        XCTAssertTrue(try client.readEndOfStream(), file: file, line: line)
    }

    func testProtocolErrorsCloseWith1002() throws {
        try start()
        try expectClose(1002, after: ClientFrames.frame(opcode: 0x1, payload: [0x61], mask: nil))
        try expectClose(1002, after: ClientFrames.frame(opcode: 0x1, payload: [0x61], rsv: 2))
        try expectClose(1002, after: ClientFrames.frame(opcode: 0x3, payload: []))
        try expectClose(1002, after: ClientFrames.frame(opcode: 0x9, payload: [UInt8](repeating: 0, count: 126)))
        try expectClose(1002, after: ClientFrames.frame(opcode: 0x9, payload: [], fin: false))
        try expectClose(1002, after: ClientFrames.frame(opcode: 0x8, payload: [0x03]))
        try expectClose(1002, after: ClientFrames.close(code: 1005))
    }

    func testInvalidUTF8ClosesWith1007() throws {
        try start()
        try expectClose(1007, after: ClientFrames.frame(opcode: 0x1, payload: [0xCE, 0xBA, 0xED, 0xA0, 0x80]))
        try expectClose(1007, after: ClientFrames.frame(opcode: 0x8, payload: [0x03, 0xE8, 0xFF]))
    }

    func testInvalidUTF8ClosesBeforeFrameCompletes() throws {
        try start()
        let client = try connect()
        let frame = ClientFrames.frame(opcode: 0x1, payload: [0x61, 0xFF] + [UInt8](repeating: 0x61, count: 200))
        // Header (4 bytes of length plus 4 of mask) and the first two payload bytes only.
        try client.send(Array(frame[0..<10]))
        XCTAssertEqual(try client.readFrame()?.closeCode, 1007)
    }

    func testOversizedMessageClosesWith1009() throws {
        try start { $0.maxMessageBytes = 1000 }
        try expectClose(1009, after: ClientFrames.header64(opcode: 0x2, length: 1001))
        try expectClose(1009, after: ClientFrames.frame(opcode: 0x2, payload: [UInt8](repeating: 1, count: 600), fin: false)
                        + ClientFrames.frame(opcode: 0x0, payload: [UInt8](repeating: 1, count: 600)))
        let client = try connect()
        try client.send(ClientFrames.frame(opcode: 0x2, payload: [UInt8](repeating: 1, count: 1000)))
        XCTAssertEqual(try client.readFrame()?.payload.count, 1000)
    }

    // MARK: - Liveness

    func testServerPingsAndClosesSilentPeer() throws {
        try start {
            $0.pingIntervalMs = 100
            $0.pongTimeoutMs = 400
        }
        let client = try connect()
        let id = try XCTUnwrap(server.firstWebSocketID())
        var pings = 0
        while let frame = try client.readFrame() {
            XCTAssertEqual(frame.opcode, 0x9, "only pings arrive before the server gives up")
            pings += 1
            XCTAssertLessThan(pings, 100, "the server never closed the silent peer")
            if pings >= 100 { break }
        }
        XCTAssertGreaterThanOrEqual(pings, 1)
        XCTAssertTrue(server.log.wait { $0.closeReport(id) != nil })
        XCTAssertEqual(server.log.closeReport(id)?.code, 1006)
        XCTAssertTrue(server.waitForNoConnections())
    }

    func testServerKeepsPeerThatAnswersPings() throws {
        // The run lasts twice the pong timeout, which leaves room for a busy machine to delay the
        // client's pongs without closing a peer that does answer.
        try start {
            $0.pingIntervalMs = 100
            $0.pongTimeoutMs = 1000
        }
        let client = try connect()
        let deadline = Date().addingTimeInterval(2.0)
        var pings = 0
        while Date() < deadline {
            let frame = try XCTUnwrap(try client.readFrame(), "the server closed a peer that answered pings")
            XCTAssertEqual(frame.opcode, 0x9)
            pings += 1
            try client.send(ClientFrames.frame(opcode: 0xA, payload: frame.payload))
        }
        XCTAssertGreaterThanOrEqual(pings, 3)
        XCTAssertEqual(server.server.connectionCount, 1)
    }

    // MARK: - Back-pressure

    func testPingFloodFromNonReaderClosesWith1008() throws {
        try start { $0.sendQueueBytes = 64 * 1024 }
        let client = try RawClient(port: server.port, readTimeoutMs: 1000, receiveBufferBytes: 4096)
        XCTAssertEqual(try client.upgrade().status, 101)
        let id = try XCTUnwrap(server.firstWebSocketID())
        // Every ping queues a pong that the client never reads; the pongs count against the
        // send queue bound like any other frame.
        let pings = (0..<64).flatMap { _ in ClientFrames.frame(opcode: 0x9, payload: [UInt8](repeating: 7, count: 125)) }
        _ = client.sendUntilBlocked(pings, limit: 16 << 20)
        XCTAssertTrue(server.log.wait(timeout: 10) { $0.closeReport(id) != nil }, "the server kept queuing pongs")
        XCTAssertEqual(server.log.closeReport(id)?.code, 1008)
    }

    func testSendQueueOverflowClosesNonReadingClientWith1008() throws {
        try start {
            $0.sendQueueBytes = 256 * 1024
            $0.closeTimeoutMs = 500
        }
        let client = try connect(receiveBufferBytes: 4096)
        let id = try XCTUnwrap(server.firstWebSocketID())
        try client.send(ClientFrames.text("flood:16384"))
        // The client reads nothing; the server's queue grows past its bound once the socket
        // buffers are full.
        XCTAssertTrue(server.log.wait(timeout: 20) { $0.closeReport(id) != nil }, "the server never closed the slow client")
        XCTAssertEqual(server.log.closeReport(id)?.code, 1008)
        XCTAssertTrue(server.waitForNoConnections())

        // What did arrive is well framed: whole binary frames, then possibly a close frame.
        var frames = 0
        while let frame = try client.readFrame() {
            if frame.opcode == 0x8 {
                XCTAssertEqual(frame.closeCode, 1008)
                break
            }
            XCTAssertEqual(frame.opcode, 0x2)
            XCTAssertEqual(frame.payload.count, 16384)
            frames += 1
        }
        XCTAssertGreaterThan(frames, 0)
    }
}
