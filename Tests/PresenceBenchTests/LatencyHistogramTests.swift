import XCTest
@testable import PresenceBench

final class LatencyHistogramTests: XCTestCase {
    func testBucketBoundsContainTheirValues() {
        for value: UInt64 in [0, 1, 127, 128, 129, 255, 256, 1000, 65_535, 1_000_000, 123_456_789] {
            let bounds = LatencyHistogram.bounds(ofBucket: LatencyHistogram.bucketIndex(of: value))
            XCTAssertLessThanOrEqual(bounds.lower, value, "value \(value)")
            XCTAssertGreaterThanOrEqual(bounds.upper, value, "value \(value)")
            XCTAssertLessThanOrEqual(Double(bounds.upper - bounds.lower), Double(value) * 0.016 + 1, "value \(value)")
        }
    }

    func testPercentilesOfUniformSamples() {
        var histogram = LatencyHistogram()
        for value in 1...10_000 { histogram.record(UInt64(value)) }
        XCTAssertEqual(histogram.total, 10_000)
        XCTAssertEqual(histogram.percentile(1.0), 10_000)
        XCTAssertEqual(Double(histogram.percentile(0.5)), 5000, accuracy: 5000 * 0.016)
        XCTAssertEqual(Double(histogram.percentile(0.99)), 9900, accuracy: 9900 * 0.016)
        XCTAssertEqual(histogram.mean, 5000.5, accuracy: 0.001)
    }

    func testMergeAddsCountsAndKeepsMaximum() {
        var first = LatencyHistogram()
        var second = LatencyHistogram()
        first.record(10)
        second.record(20)
        second.record(5000)
        first.merge(second)
        XCTAssertEqual(first.total, 3)
        XCTAssertEqual(first.maximum, 5000)
        XCTAssertEqual(first.percentile(0.5), 20)
    }

    func testEmptyHistogramReportsZero() {
        let histogram = LatencyHistogram()
        XCTAssertEqual(histogram.percentile(0.99), 0)
        XCTAssertEqual(histogram.mean, 0)
        XCTAssertTrue(histogram.nonEmptyBuckets.isEmpty)
    }
}
