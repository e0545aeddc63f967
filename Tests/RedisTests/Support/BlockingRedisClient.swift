import Foundation
import Observability
import Transport
import XCTest

@testable import Redis

/// A Redis client for test assertions: runs a `RedisConnection` on its own event loop and blocks
/// the test thread for each reply.
final class BlockingRedisClient: @unchecked Sendable {
    // @unchecked Sendable: `connection` is touched only inside tasks on `group.loops[0]`.
    let group: EventLoopGroup
    private var connection: RedisConnection!

    init(port: UInt16) throws {
        group = try EventLoopGroup(count: 1)
        let loop = group.loops[0]
        let ready = DispatchSemaphore(value: 0)
        loop.execute { [self] in
            let metrics = RedisMetrics(registry: MetricsRegistry(namespace: "test"))
            connection = RedisConnection(
                loop: loop, address: RedisServerAddress(host: "127.0.0.1", port: port), mode: .commands,
                name: "assertions", metrics: metrics, logger: testLogger())
            connection.backoff = ReconnectBackoff(initialMs: 20, maxMs: 100)
            connection.start()
            ready.signal()
        }
        ready.wait()
    }

    deinit {
        let loop = group.loops[0]
        let done = DispatchSemaphore(value: 0)
        // Capturing self here would outlive deinit, so only the connection goes to the loop.
        let connection = UnsafeSendableBox(self.connection!)
        loop.execute {
            connection.value.close()
            done.signal()
        }
        done.wait()
        group.stop()
    }

    /// Sends one command and waits up to five seconds for the reply, retrying while the
    /// connection is still coming up.
    @discardableResult
    func command(_ arguments: String..., file: StaticString = #filePath, line: UInt = #line) throws -> RedisReply {
        try command(arguments, file: file, line: line)
    }

    func command(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> RedisReply {
        let deadline = Date().addingTimeInterval(5)
        while true {
            let box = ResultBox()
            let done = DispatchSemaphore(value: 0)
            group.loops[0].execute { [self] in
                connection.send(arguments) { result in
                    box.result = result
                    done.signal()
                }
            }
            guard done.wait(timeout: .now() + 5) == .success, let result = box.result else {
                XCTFail("no reply to \(arguments) within 5 s", file: file, line: line)
                throw RedisError.connectionLost(server: "test", reason: "timeout")
            }
            switch result {
            case .success(let reply):
                return reply
            case .failure(.notConnected) where Date() < deadline:
                usleep(20_000)
            case .failure(let error):
                throw error
            }
        }
    }

    private final class ResultBox: @unchecked Sendable {
        // @unchecked Sendable: written once on the loop before the semaphore is signalled, read after.
        var result: Result<RedisReply, RedisError>?
    }
}
