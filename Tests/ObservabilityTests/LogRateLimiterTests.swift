import XCTest

@testable import Observability

final class LogRateLimiterTests: XCTestCase {
    func testLimiterAdmitsQuotaThenSuppresses() {
        let clock = ManualClock()
        let limiter = LogRateLimiter(maxPerInterval: 2, intervalMs: 1_000, monotonicMs: clock.source)
        XCTAssertEqual(limiter.admit(key: "redis.connect"), .emit(suppressedBefore: 0))
        XCTAssertEqual(limiter.admit(key: "redis.connect"), .emit(suppressedBefore: 0))
        XCTAssertEqual(limiter.admit(key: "redis.connect"), .suppress)
        XCTAssertEqual(limiter.admit(key: "redis.connect"), .suppress)
        clock.advance(byMs: 999)
        XCTAssertEqual(limiter.admit(key: "redis.connect"), .suppress)
        clock.advance(byMs: 1)
        XCTAssertEqual(limiter.admit(key: "redis.connect"), .emit(suppressedBefore: 3))
        XCTAssertEqual(limiter.admit(key: "redis.connect"), .emit(suppressedBefore: 0))
    }

    func testLimiterCountsKeysSeparately() {
        let clock = ManualClock()
        let limiter = LogRateLimiter(maxPerInterval: 1, intervalMs: 1_000, monotonicMs: clock.source)
        XCTAssertEqual(limiter.admit(key: "a"), .emit(suppressedBefore: 0))
        XCTAssertEqual(limiter.admit(key: "a"), .suppress)
        XCTAssertEqual(limiter.admit(key: "b"), .emit(suppressedBefore: 0))
    }

    func testLimiterBoundsTrackedKeys() {
        let clock = ManualClock()
        let limiter = LogRateLimiter(maxPerInterval: 1, intervalMs: 1_000, maxKeys: 3, monotonicMs: clock.source)
        for index in 0..<10 {
            clock.advance(byMs: 1)
            _ = limiter.admit(key: "connection.\(index)")
            XCTAssertLessThanOrEqual(limiter.trackedKeyCount, 3)
        }
        XCTAssertEqual(limiter.admit(key: "connection.9"), .suppress)
    }

    func testLoggerAppendsSuppressedCount() {
        let clock = ManualClock()
        let writer = CapturingLogWriter()
        let sink = LogSink(level: .info, writer: writer, wallClockMs: { fixedTimestampMs })
        let logger = Logger(label: "lua", sink: sink)
        let limiter = LogRateLimiter(maxPerInterval: 1, intervalMs: 5_000, monotonicMs: clock.source)
        for _ in 0..<43 {
            logger.log(.error, "hook failed", metadata: ["plugin.name": "palette"], limitedBy: limiter, key: "palette.color")
        }
        XCTAssertEqual(writer.lines.count, 1)
        clock.advance(byMs: 5_000)
        logger.log(.error, "hook failed", metadata: ["plugin.name": "palette"], limitedBy: limiter, key: "palette.color")
        XCTAssertEqual(writer.lines.count, 2)
        XCTAssertEqual(
            writer.lines[1],
            "2026-12-04T19:00:00.123Z error lua: hook failed (suppressed 42 similar messages) plugin.name=palette\n")
    }

    func testLoggerDoesNotCountDisabledLevels() {
        let clock = ManualClock()
        let writer = CapturingLogWriter()
        let sink = LogSink(level: .warning, writer: writer, wallClockMs: { fixedTimestampMs })
        let logger = Logger(label: "lua", sink: sink)
        let limiter = LogRateLimiter(maxPerInterval: 1, intervalMs: 5_000, monotonicMs: clock.source)
        logger.log(.debug, "noise", limitedBy: limiter, key: "k")
        XCTAssertEqual(limiter.trackedKeyCount, 0)
        logger.log(.warning, "kept", limitedBy: limiter, key: "k")
        XCTAssertEqual(writer.lines.count, 1)
    }
}
