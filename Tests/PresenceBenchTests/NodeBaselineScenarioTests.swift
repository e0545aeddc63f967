import Foundation
import XCTest
@testable import PresenceBench

/// Runs small scenarios against the Node.js baseline server, a real peer that speaks the same protocol.
final class NodeBaselineScenarioTests: XCTestCase {
    private static let script = "/work/shared/peers/node-ws-presence.js"
    private var server: Process?
    private var url = ""

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: "/usr/bin/node"),
              FileManager.default.fileExists(atPath: "/usr/share/nodejs/ws"),
              FileManager.default.fileExists(atPath: Self.script)
        else { throw XCTSkip("needs /usr/bin/node, Debian's node-ws and \(Self.script)") }
        let port = try freeLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/node")
        process.arguments = [Self.script, "--port", String(port)]
        process.environment = ["NODE_PATH": "/usr/share/nodejs"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        server = process
        url = "ws://127.0.0.1:\(port)/v1/ws"
        try waitUntilAccepting(port: port, timeoutSeconds: 10)
    }

    override func tearDown() {
        server?.terminate()
        server?.waitUntilExit()
    }

    private func setUpRun(_ arguments: [String]) throws -> (BenchOptions, [ServerEndpoint], ProcessWatch) {
        let pid = String(server!.processIdentifier)
        let options = try BenchOptions(arguments: arguments + ["--url", url, "--server-pid", pid, "--join-timeout", "20"])
        return (options, [try ServerEndpoint(url: url, batchMs: nil)], ProcessWatch(serverPIDs: options.serverPIDs))
    }

    func testBusyRoomDeliversEveryFinalPosition() throws {
        let (options, endpoints, watch) = try setUpRun(["busy-room"])
        let layout = RoomLayout(documents: 1, members: 12, movers: 3, rate: 20, documentPrefix: "test-busy")
        let result = try RoomScenario.run(layout: layout, duration: 1, options: options, endpoints: endpoints, watch: watch)
        XCTAssertEqual(result.joinedClients, 12)
        XCTAssertGreaterThan(result.positionsSent, 30)
        XCTAssertGreaterThan(result.delivered, 0)
        XCTAssertLessThanOrEqual(result.delivered, result.expectedDeliveries)
        XCTAssertEqual(result.finalPairs, 3 * 11)
        XCTAssertEqual(result.finalDelivered, result.finalPairs)
        XCTAssertEqual(result.latency.total, UInt64(result.delivered))
        XCTAssertEqual(result.unexpected, 0)
        XCTAssertEqual(result.reordered, 0)
        XCTAssertEqual(result.counters.failureCount, 0)
        XCTAssertNotNil(result.serverCPUPerMillion)
    }

    func testBusyRoomWithTwoThreadsMatchesLayout() throws {
        let (options, endpoints, watch) = try setUpRun(["busy-room", "--threads", "2"])
        let layout = RoomLayout(documents: 3, members: 5, movers: 5, rate: 10, documentPrefix: "test-rooms")
        let result = try RoomScenario.run(layout: layout, duration: 1, options: options, endpoints: endpoints, watch: watch)
        XCTAssertEqual(result.joinedClients, 15)
        XCTAssertEqual(result.finalPairs, 3 * 5 * 4)
        XCTAssertEqual(result.finalDelivered, result.finalPairs)
        XCTAssertEqual(result.unexpected, 0)
    }

    func testChurnViewsEqualTruth() throws {
        let (options, endpoints, watch) = try setUpRun([
            "churn", "--connections", "40", "--documents", "3", "--rate", "40", "--duration", "2", "--hold", "0.5",
            "--document-prefix", "test-churn",
        ])
        var report = Report(options: options, machine: MachineInfo.current())
        try ChurnScenario.run(options: options, endpoints: endpoints, watch: watch, into: &report)
        let results = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.key, $0.text) })
        XCTAssertEqual(results["all_views_match"], "yes", report.tableText())
        XCTAssertEqual(results["connection_failures"], "0", report.tableText())
        XCTAssertNotEqual(results["drops"], "0", report.tableText())
        XCTAssertNotEqual(results["leaves"], "0", report.tableText())
    }

    func testJoinStormReceivesEverySnapshot() throws {
        let (options, endpoints, watch) = try setUpRun(["join-storm", "--connections", "300", "--window", "0.5", "--document-prefix", "test-storm"])
        var report = Report(options: options, machine: MachineInfo.current())
        try JoinStormScenario.run(options: options, endpoints: endpoints, watch: watch, into: &report)
        let results = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.key, $0.text) })
        XCTAssertEqual(results["all_snapshots_received"], "yes", report.tableText())
        XCTAssertEqual(results["errors"], "0", report.tableText())
    }

    func testUnreachableServerFailsConnections() throws {
        let port = try freeLoopbackPort()
        let closedURL = "ws://127.0.0.1:\(port)/v1/ws"
        let options = try BenchOptions(arguments: ["busy-room", "--url", closedURL, "--join-timeout", "5"])
        let endpoints = [try ServerEndpoint(url: closedURL, batchMs: nil)]
        let layout = RoomLayout(documents: 1, members: 4, movers: 1, rate: 10, documentPrefix: "test-closed")
        XCTAssertThrowsError(try RoomScenario.run(layout: layout, duration: 1, options: options, endpoints: endpoints, watch: ProcessWatch(serverPIDs: []))) { error in
            XCTAssertTrue("\(error)".contains("connect failed"), "\(error)")
        }
    }
}

/// Asks the kernel for an unused loopback port by binding to port 0.
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return UInt16(bigEndian: address.sin_port)
}

/// Polls until something accepts TCP connections on the loopback port.
func waitUntilAccepting(port: UInt16, timeoutSeconds: Double) throws {
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        close(fd)
        if connected { return }
        usleep(50_000)
    }
    throw XCTSkip("server on port \(port) did not accept connections within \(timeoutSeconds) s")
}
