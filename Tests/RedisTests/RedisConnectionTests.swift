import Foundation
import Observability
import Transport
import XCTest

@testable import Redis

/// Drives one `RedisConnection` on its own loop and records what it reports.
private final class ConnectionHarness: RedisConnectionDelegate, @unchecked Sendable {
    // @unchecked Sendable: `connection` and the counters are touched only on `loop`, and the test
    // reads the counters through `onLoop`.
    let group: EventLoopGroup
    var loop: EventLoop { group.loops[0] }
    var connection: RedisConnection!
    var connects = 0
    var disconnects = 0
    let logs = CapturingLogWriter()

    init(port: UInt16, password: String? = nil, database: Int = 0, backoff: ReconnectBackoff) throws {
        group = try EventLoopGroup(count: 1)
        onLoop { [self] in
            connection = RedisConnection(
                loop: loop, address: RedisServerAddress(host: "127.0.0.1", port: port, password: password, database: database),
                mode: .commands, name: "test", metrics: RedisMetrics(registry: MetricsRegistry(namespace: "test")),
                logger: testLogger(logs))
            connection.backoff = backoff
            connection.commandTimeoutMs = 1_500
            connection.delegate = self
            connection.start()
        }
    }

    func shutDown() {
        onLoop { [self] in connection.close() }
        group.stop()
    }

    func onLoop<T>(_ body: @escaping @Sendable () -> T) -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            box.value = body()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    /// Sends a command and waits for its completion.
    func send(_ arguments: [String]) -> Result<RedisReply, RedisError> {
        let box = Box<Result<RedisReply, RedisError>>()
        let done = DispatchSemaphore(value: 0)
        loop.execute { [self] in
            connection.send(arguments) { result in
                box.value = result
                done.signal()
            }
        }
        guard done.wait(timeout: .now() + 10) == .success else {
            return .failure(.connectionLost(server: "test", reason: "no completion within 10 s"))
        }
        return box.value!
    }

    func waitUntil(timeout: TimeInterval = 10, _ condition: @escaping @Sendable () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if onLoop(condition) { return true }
            usleep(10_000)
        }
        return false
    }

    func redisConnectionDidConnect(_ connection: RedisConnection) { connects += 1 }
    func redisConnectionDidDisconnect(_ connection: RedisConnection) { disconnects += 1 }
    func redisConnection(_ connection: RedisConnection, didReceivePush reply: RedisReply) {}

    private final class Box<T>: @unchecked Sendable {
        // @unchecked Sendable: written on the loop before the semaphore is signalled, read after.
        var value: T?
    }
}

final class RedisConnectionTests: XCTestCase {
    func testConnectionRunsCommandsInOrder() throws {
        let server = try RedisServerProcess()
        let harness = try ConnectionHarness(port: server.port, backoff: ReconnectBackoff(initialMs: 20, maxMs: 100))
        defer { harness.shutDown() }
        XCTAssertTrue(harness.waitUntil { harness.connection.isConnected })

        XCTAssertEqual(try harness.send(["SET", "k", "v1"]).get(), .status("OK"))
        XCTAssertEqual(try harness.send(["GET", "k"]).get(), .bulk(Array("v1".utf8)))
        XCTAssertEqual(try harness.send(["GET", "missing"]).get(), .null)
        XCTAssertEqual(try harness.send(["RPUSH", "list", "a", "b"]).get(), .integer(2))
        XCTAssertEqual(try harness.send(["LRANGE", "list", "0", "-1"]).get(), .array([.bulk([97]), .bulk([98])]))
        guard case .failure(.server(let message)) = harness.send(["NOSUCHCOMMAND"]) else {
            return XCTFail("an unknown command should fail with the server's error")
        }
        XCTAssertTrue(message.contains("unknown command"), message)
    }

    func testBinaryArgumentsSurviveRoundTrip() throws {
        let server = try RedisServerProcess()
        let harness = try ConnectionHarness(port: server.port, backoff: ReconnectBackoff(initialMs: 20, maxMs: 100))
        defer { harness.shutDown() }
        XCTAssertTrue(harness.waitUntil { harness.connection.isConnected })
        let value: [UInt8] = [0, 1, 255, 13, 10, 0]
        let stored = harness.onLoop { [harness] () -> Bool in
            harness.connection.send([Array("SET".utf8), Array("bin".utf8), value], command: "SET", completion: nil)
            return true
        }
        XCTAssertTrue(stored)
        XCTAssertEqual(try harness.send(["GET", "bin"]).get(), .bulk(value))
    }

    func testSendFailsAtOnceWhileDisconnected() throws {
        let port = try RedisServerProcess.freePort()
        let harness = try ConnectionHarness(port: port, backoff: ReconnectBackoff(initialMs: 50, maxMs: 200))
        defer { harness.shutDown() }
        let started = Date()
        guard case .failure(.notConnected) = harness.send(["PING"]) else {
            return XCTFail("a command without a server should fail with notConnected")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
    }

    func testReconnectsAfterServerRestart() throws {
        let server = try RedisServerProcess()
        let harness = try ConnectionHarness(port: server.port, backoff: ReconnectBackoff(initialMs: 20, maxMs: 200))
        defer { harness.shutDown() }
        XCTAssertTrue(harness.waitUntil { harness.connection.isConnected })
        XCTAssertEqual(try harness.send(["PING"]).get(), .status("PONG"))

        server.stop()
        XCTAssertTrue(harness.waitUntil { harness.disconnects == 1 })
        XCTAssertFalse(harness.onLoop { harness.connection.isConnected })
        usleep(300_000)
        try server.restart()
        XCTAssertTrue(harness.waitUntil { harness.connection.isConnected }, "no reconnect within 10 s")
        XCTAssertEqual(harness.onLoop { harness.connects }, 2)
        XCTAssertEqual(try harness.send(["PING"]).get(), .status("PONG"))
    }

    func testLogsFailureOncePerBackoffStep() throws {
        let port = try RedisServerProcess.freePort()
        let harness = try ConnectionHarness(port: port, backoff: ReconnectBackoff(initialMs: 10, maxMs: 40))
        defer { harness.shutDown() }
        // Ceilings 10, 20, 40, 40, 40...: three steps, so three lines however many attempts fail.
        XCTAssertTrue(harness.waitUntil { harness.connection.failedAttempts >= 12 })
        let failures = harness.logs.lines.filter { $0.contains("cannot connect to Redis") }
        XCTAssertEqual(failures.count, 3, failures.joined(separator: "\n"))
    }

    func testInFlightCommandFailsWhenServerDies() throws {
        let server = try RedisServerProcess()
        let harness = try ConnectionHarness(port: server.port, backoff: ReconnectBackoff(initialMs: 50, maxMs: 200))
        defer { harness.shutDown() }
        XCTAssertTrue(harness.waitUntil { harness.connection.isConnected })
        // BLPOP waits on the server, so the command is still in flight when the server dies.
        let box = ResultHolder()
        harness.onLoop { [harness] in
            harness.connection.send(["BLPOP", "never", "0"]) { result in box.result = result }
        }
        usleep(100_000)
        server.stop()
        XCTAssertTrue(harness.waitUntil { box.result != nil })
        guard case .failure(.connectionLost) = harness.onLoop({ box.result! }) else {
            return XCTFail("an unanswered command should fail with connectionLost")
        }
    }

    func testHungServerTimesOutAndReconnects() throws {
        let server = try RedisServerProcess()
        let harness = try ConnectionHarness(port: server.port, backoff: ReconnectBackoff(initialMs: 50, maxMs: 200))
        defer {
            server.resume()
            harness.shutDown()
        }
        XCTAssertTrue(harness.waitUntil { harness.connection.isConnected })
        server.pause()
        let started = Date()
        guard case .failure(.connectionLost(_, let reason)) = harness.send(["PING"]) else {
            return XCTFail("a command to a stopped server should fail with connectionLost")
        }
        XCTAssertTrue(reason.contains("no reply"), reason)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4)
        server.resume()
        XCTAssertTrue(harness.waitUntil { harness.connection.isConnected })
        XCTAssertEqual(try harness.send(["PING"]).get(), .status("PONG"))
    }

    func testPasswordAndDatabaseAreApplied() throws {
        let server = try RedisServerProcess(password: "s3cret")
        let harness = try ConnectionHarness(
            port: server.port, password: "s3cret", database: 3, backoff: ReconnectBackoff(initialMs: 20, maxMs: 100))
        defer { harness.shutDown() }
        XCTAssertTrue(harness.waitUntil { harness.connection.isConnected })
        XCTAssertEqual(try harness.send(["SET", "where", "three"]).get(), .status("OK"))
        let info = try harness.send(["CLIENT", "INFO"]).get().string ?? ""
        XCTAssertTrue(info.contains(" db=3 "), info)
    }

    func testWrongPasswordKeepsRetrying() throws {
        let server = try RedisServerProcess(password: "right")
        let harness = try ConnectionHarness(
            port: server.port, password: "wrong", backoff: ReconnectBackoff(initialMs: 10, maxMs: 40))
        defer { harness.shutDown() }
        XCTAssertTrue(harness.waitUntil { harness.connection.failedAttempts >= 2 })
        XCTAssertFalse(harness.onLoop { harness.connection.isConnected })
        XCTAssertTrue(harness.logs.lines.contains { $0.contains("rejected the login") })
    }
}

private final class ResultHolder: @unchecked Sendable {
    // @unchecked Sendable: written on the loop, read through `onLoop`.
    var result: Result<RedisReply, RedisError>?
}
