import Foundation
import XCTest

@testable import Observability

final class MetricsRegistryTests: XCTestCase {
    func testCounterRendersHelpTypeAndNamespace() {
        let registry = MetricsRegistry()
        let updates = registry.counter(
            "presence_updates_total", help: "Total presence update events.", labels: ["event_type"])
        updates.labels("CursorMoved").increment()
        updates.labels("CursorMoved").increment(by: 2)
        updates.labels("UserJoined").increment()
        XCTAssertEqual(
            registry.render(),
            """
            # HELP materi_presence_updates_total Total presence update events.
            # TYPE materi_presence_updates_total counter
            materi_presence_updates_total{event_type="CursorMoved"} 3
            materi_presence_updates_total{event_type="UserJoined"} 1

            """)
    }

    func testUnlabelledFamilyExportsZeroBeforeUse() {
        let registry = MetricsRegistry(namespace: "")
        _ = registry.counter("frames_total", help: "Frames read.")
        XCTAssertEqual(
            registry.render(), "# HELP frames_total Frames read.\n# TYPE frames_total counter\nframes_total 0\n")
    }

    func testLabelValuesAndHelpAreEscaped() {
        let registry = MetricsRegistry(namespace: "test")
        let gauge = registry.gauge("value", help: "Help with \\ and\nnewline.", labels: ["document_id"])
        gauge.labels("d\"1\\x\ny").set(2.5)
        let output = registry.render()
        XCTAssertTrue(output.contains("# HELP test_value Help with \\\\ and\\nnewline.\n"), output)
        XCTAssertTrue(output.contains("test_value{document_id=\"d\\\"1\\\\x\\ny\"} 2.5\n"), output)
    }

    func testGaugeSeriesCanBeRemoved() {
        let registry = MetricsRegistry()
        let active = registry.gauge(
            "presence_active_users", help: "Active users per document.", labels: ["document_id", "workspace_id"])
        active.labels("d1", "w1").set(3)
        active.labels("d2", "w1").increment()
        active.labels("d2", "w1").increment()
        active.labels("d2", "w1").decrement()
        XCTAssertEqual(active.labels("d2", "w1").value, 1)
        XCTAssertEqual(active.labelValueSets, [["d1", "w1"], ["d2", "w1"]])

        active.remove("d1", "w1")
        let output = registry.render()
        XCTAssertFalse(output.contains("d1"), output)
        XCTAssertTrue(output.contains("materi_presence_active_users{document_id=\"d2\",workspace_id=\"w1\"} 1\n"), output)

        active.removeAll()
        XCTAssertEqual(active.labelValueSets, [])
        XCTAssertEqual(active.labels("d1", "w1").value, 0)
    }

    func testHistogramRendersCumulativeBuckets() {
        let registry = MetricsRegistry()
        let latency = registry.histogram(
            "cursor_update_latency_seconds", help: "Cursor update broadcast latency.",
            buckets: [0.005, 0.010, 0.025, 0.050, 0.100])
        for value in [0.001, 0.005, 0.02, 0.07, 3.0] {
            latency.labels().observe(value)
        }
        latency.labels().observe(.nan)
        XCTAssertEqual(
            registry.render(),
            """
            # HELP materi_cursor_update_latency_seconds Cursor update broadcast latency.
            # TYPE materi_cursor_update_latency_seconds histogram
            materi_cursor_update_latency_seconds_bucket{le="0.005"} 2
            materi_cursor_update_latency_seconds_bucket{le="0.01"} 2
            materi_cursor_update_latency_seconds_bucket{le="0.025"} 3
            materi_cursor_update_latency_seconds_bucket{le="0.05"} 3
            materi_cursor_update_latency_seconds_bucket{le="0.1"} 4
            materi_cursor_update_latency_seconds_bucket{le="+Inf"} 5
            materi_cursor_update_latency_seconds_sum 3.096
            materi_cursor_update_latency_seconds_count 5

            """)
    }

    func testLabelledHistogramPutsLeLast() {
        let registry = MetricsRegistry()
        let calls = registry.histogram(
            "plugin_call_duration_seconds", help: "Plugin hook duration.", labels: ["plugin", "hook"], buckets: [1])
        calls.labels("palette", "color").observe(0.5)
        let output = registry.render()
        XCTAssertTrue(
            output.contains("materi_plugin_call_duration_seconds_bucket{plugin=\"palette\",hook=\"color\",le=\"1\"} 1\n"),
            output)
        XCTAssertTrue(
            output.contains("materi_plugin_call_duration_seconds_sum{plugin=\"palette\",hook=\"color\"} 0.5\n"), output)
        XCTAssertTrue(
            output.contains("materi_plugin_call_duration_seconds_count{plugin=\"palette\",hook=\"color\"} 1\n"), output)
    }

    func testRegisteringTwiceReturnsSameFamily() {
        let registry = MetricsRegistry()
        let first = registry.counter("errors_total", help: "Errors.", labels: ["code"])
        let second = registry.counter("errors_total", help: "Errors.", labels: ["code"])
        XCTAssertTrue(first === second)
        first.labels("Internal").increment()
        XCTAssertEqual(second.labels("Internal").value, 1)
    }

    func testFamiliesRenderSortedByName() {
        let registry = MetricsRegistry(namespace: "m")
        _ = registry.gauge("zeta", help: "Z.")
        _ = registry.counter("alpha_total", help: "A.")
        let names = registry.render().split(separator: "\n").filter { $0.hasPrefix("# TYPE") }
        XCTAssertEqual(names, ["# TYPE m_alpha_total counter", "# TYPE m_zeta gauge"])
    }

    func testCollectorsRunBeforeRender() {
        let registry = MetricsRegistry()
        let open = registry.gauge("open_file_descriptors", help: "Open file descriptors.")
        registry.addCollector { open.labels().set(17) }
        XCTAssertTrue(registry.render().contains("materi_open_file_descriptors 17\n"))
    }

    func testValueFormatting() {
        XCTAssertEqual(PrometheusText.format(3), "3")
        XCTAssertEqual(PrometheusText.format(-2), "-2")
        XCTAssertEqual(PrometheusText.format(0.25), "0.25")
        XCTAssertEqual(PrometheusText.format(.infinity), "+Inf")
        XCTAssertEqual(PrometheusText.format(-.infinity), "-Inf")
        XCTAssertEqual(PrometheusText.format(.nan), "NaN")
        XCTAssertEqual(PrometheusText.format(1e20), "1e+20")
    }

    func testNameValidation() {
        XCTAssertTrue(PrometheusText.isValidMetricName("materi_presence_active_users"))
        XCTAssertTrue(PrometheusText.isValidMetricName("a:b_c1"))
        XCTAssertFalse(PrometheusText.isValidMetricName("1abc"))
        XCTAssertFalse(PrometheusText.isValidMetricName("with-dash"))
        XCTAssertFalse(PrometheusText.isValidMetricName(""))
        XCTAssertTrue(PrometheusText.isValidLabelName("document_id"))
        XCTAssertFalse(PrometheusText.isValidLabelName("__reserved"))
        XCTAssertFalse(PrometheusText.isValidLabelName("a:b"))
    }

    func testConcurrentUpdatesAreNotLost() {
        let registry = MetricsRegistry()
        let counter = registry.counter("frames_total", help: "Frames.", labels: ["direction"])
        let gauge = registry.gauge("connections", help: "Connections.")
        let histogram = registry.histogram("latency_seconds", help: "Latency.", buckets: [0.5])
        let threads = 8
        let iterations = 20_000
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let cached = counter.labels("in")
            for index in 0..<iterations {
                cached.increment()
                counter.labels(thread % 2 == 0 ? "out" : "in").increment()
                gauge.labels().add(1)
                histogram.labels().observe(index % 2 == 0 ? 0.25 : 1.0)
            }
        }
        let total = UInt64(threads * iterations)
        XCTAssertEqual(counter.labels("in").value, total + total / 2)
        XCTAssertEqual(counter.labels("out").value, total / 2)
        XCTAssertEqual(gauge.labels().value, Double(total))
        XCTAssertEqual(histogram.labels().count, total)
        XCTAssertEqual(histogram.labels().sum, Double(total / 2) * 0.25 + Double(total / 2) * 1.0)
        XCTAssertTrue(registry.render().contains("materi_latency_seconds_bucket{le=\"0.5\"} \(total / 2)\n"))
    }
}
