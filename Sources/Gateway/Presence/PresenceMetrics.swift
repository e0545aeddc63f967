import Observability

/// The presence metrics, with the design's names under the configured namespace.
final class PresenceMetrics: Sendable {
    let activeUsers: GaugeFamily
    let updates: CounterFamily
    let cursorLatency: Histogram
    let documents: Gauge
    let connections: Gauge
    let framesEncoded: Counter
    let framesQueued: Counter
    let framesDropped: Counter
    let errors: CounterFamily
    let perDocumentLabels: Bool

    init(registry: MetricsRegistry, perDocumentLabels: Bool) {
        self.perDocumentLabels = perDocumentLabels
        activeUsers = registry.gauge(
            "presence_active_users", help: "Number of active users per document",
            labels: perDocumentLabels ? ["document_id", "workspace_id"] : ["workspace_id"])
        updates = registry.counter("presence_updates_total", help: "Total presence update messages received, by type",
                                   labels: ["event_type"])
        cursorLatency = registry.histogram(
            "cursor_update_latency_seconds",
            help: "Time from reading a cursor message to queueing its broadcast for writing",
            buckets: [0.005, 0.010, 0.025, 0.050, 0.100]).labels()
        documents = registry.gauge("presence_documents", help: "Documents with at least one user on this node").labels()
        connections = registry.gauge("presence_connections", help: "Open presence WebSocket connections").labels()
        framesEncoded = registry.counter("presence_frames_encoded_total", help: "Server messages encoded (each once for all its recipients)").labels()
        framesQueued = registry.counter("presence_frames_queued_total", help: "Server messages queued to connections").labels()
        framesDropped = registry.counter(
            "presence_frames_dropped_total",
            help: "Server messages not queued because the connection was closing or its send queue overflowed").labels()
        errors = registry.counter("presence_errors_total", help: "Error messages sent to clients, by code", labels: ["code"])
    }

    /// Records a room's distinct user count; called on the room's loop.
    func documentChanged(_ slot: RoomSlot, users: Int) {
        let delta = users - slot.reportedUsers
        guard delta != 0 else { return }
        slot.reportedUsers = users
        if perDocumentLabels {
            activeUsers.labels(slot.documentID, slot.workspaceID).set(users)
        } else {
            activeUsers.labels(slot.workspaceID).add(Double(delta))
        }
    }

    /// Removes an emptied document's series so that the gauge does not grow with every document ever seen.
    func removeDocument(_ slot: RoomSlot) {
        documentChanged(slot, users: 0)
        if perDocumentLabels {
            activeUsers.remove(slot.documentID, slot.workspaceID)
        }
    }
}
