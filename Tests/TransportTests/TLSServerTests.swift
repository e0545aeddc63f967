import Foundation
import XCTest
@testable import Transport

final class TLSServerTests: XCTestCase {
    private var directory: URL!
    private var server: TestServer!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("transport-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try generateCertificate()
    }

    override func tearDown() {
        server?.stop()
        server = nil
        try? FileManager.default.removeItem(at: directory)
    }

    private var certificatePath: String { directory.appendingPathComponent("cert.pem").path }
    private var keyPath: String { directory.appendingPathComponent("key.pem").path }

    /// Writes a self-signed P-256 certificate for localhost with the `openssl` command.
    private func generateCertificate() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-keyout", keyPath, "-out", certificatePath,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw RawClientError(description: "openssl req exited with \(process.terminationStatus); is the openssl command installed?")
        }
    }

    private func startTLSServer() throws {
        let context = try TLSContext(certificateFile: certificatePath, privateKeyFile: keyPath)
        server = try TestServer(tls: context) { $0.maxMessageBytes = 1 << 20 }
    }

    func testTLSEchoesMessagesAndClosesCleanly() throws {
        try startTLSServer()
        let client = try RawClient(port: server.port)
        try client.startTLS()
        XCTAssertEqual(try client.upgrade().status, 101)
        for size in [0, 125, 65536, 200_000] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7) }
            try client.send(ClientFrames.frame(opcode: 0x2, payload: payload))
            let frame = try XCTUnwrap(try client.readFrame(), "echo of \(size) bytes")
            XCTAssertEqual(frame.payload.count, size)
            XCTAssertTrue(frame.payload == payload, "echo of \(size) bytes differs")
        }
        try client.send(ClientFrames.close(code: 1000))
        XCTAssertEqual(try client.readFrame()?.closeCode, 1000)
        XCTAssertTrue(try client.readEndOfStream())
        XCTAssertTrue(server.waitForNoConnections())
    }

    func testTLSServesPlainHTTPRequests() throws {
        try startTLSServer()
        let client = try RawClient(port: server.port)
        try client.startTLS()
        try client.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try client.readResponse().body, "hello\n")
        try client.send("GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 404)
        XCTAssertTrue(try client.readEndOfStream())
    }

    func testTLSListenerDropsPlainTextClient() throws {
        try startTLSServer()
        let plain = try RawClient(port: server.port)
        try plain.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
        // The server cannot read this as a TLS record; it may send an alert, then must close.
        XCTAssertLessThan(try plain.discardUntilEndOfStream(), 1000)
        XCTAssertTrue(server.waitForNoConnections())

        let client = try RawClient(port: server.port)
        try client.startTLS()
        try client.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
    }

    func testTLSContextErrorNamesMissingFile() {
        let missing = directory.appendingPathComponent("missing.pem").path
        XCTAssertThrowsError(try TLSContext(certificateFile: missing, privateKeyFile: keyPath)) { error in
            XCTAssertTrue("\(error)".contains(missing), "\(error)")
        }
    }

    func testTLSContextRejectsMismatchedKey() throws {
        let otherKey = directory.appendingPathComponent("other-key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", otherKey]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertThrowsError(try TLSContext(certificateFile: certificatePath, privateKeyFile: otherKey))
    }
}
