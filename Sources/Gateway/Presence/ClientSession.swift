import CLinux
import Observability
import PresenceCore
import Transport

/// Settings a session needs from the configuration.
struct SessionSettings: Sendable {
    var limits: ClientMessageLimits
    var maxDocumentsPerConnection: Int
    /// Messages per second a connection may send on average; bursts up to twice that pass.
    var messagesPerSecond: Double
}

/// One presence WebSocket connection: decodes client messages and hands them to the rooms' loops.
///
/// Lives on its connection's loop. Messages for a room on another loop are handed over with
/// `execute`, which keeps their order, so a join always reaches the room before that
/// connection's cursor moves.
final class ClientSession: WebSocketDelegate {
    private let service: PresenceService
    private let settings: SessionSettings
    private let logger: Logger
    /// The identity proven at the upgrade, which decides what a join may claim.
    private let credentials: ClientCredentials
    /// Documents this connection joined (or asked to join), with the loop state owning each room.
    private var joined: [String: LoopPresence] = [:]
    private var bucket: TokenBucket
    private var rateLimitStrikes = 0
    /// Interval of batched delivery asked for with `?batch_ms=` on the upgrade URL; 0 is off.
    let batchMs: UInt64
    /// The pending batch of each document, searched linearly: a connection joins one document or a
    /// few, and comparing a short string costs less than hashing it for every event.
    private var batches: [(documentID: String, batch: EventBatch)] = []
    /// Sends the batches when no room flush comes to send them.
    private var batchTimer: UInt64?
    /// Monotonic ms at which the last interval's batches went out; 0 before the first.
    private var lastBatchMs: UInt64 = 0
    /// Set while `PresenceService.apply` hands this session the frames of one room flush, so that
    /// it decides once, at the end, whether the batches go out.
    var awaitsBatchDecision = false
    /// Set when the connection closed, so frames still on their way start no batch.
    private var isClosed = false
    /// Closes the connection when its token expires; nil in mode none.
    private var expiryTimer: UInt64?

    init(
        service: PresenceService, settings: SessionSettings, logger: Logger, batchMs: UInt64 = 0,
        credentials: ClientCredentials = .unauthenticated
    ) {
        self.service = service
        self.credentials = credentials
        self.settings = settings
        self.logger = logger
        self.batchMs = batchMs
        bucket = TokenBucket(ratePerSecond: settings.messagesPerSecond, burst: settings.messagesPerSecond * 2)
    }

    func webSocketDidOpen(_ connection: Connection) {
        connection.userData = self
        service.metrics.connections.increment()
        if let delayMs = credentials.millisecondsUntilExpiry(nowMs: service.clock.wallMs) {
            expiryTimer = connection.loop.scheduleTimer(afterMs: delayMs) { [weak connection] in
                connection?.close(code: WebSocketCloseCode.policyViolation, reason: "token expired; reconnect with a new token")
            }
        }
    }

    func webSocketDidClose(_ connection: Connection, code: UInt16, reason: String) {
        service.metrics.connections.decrement()
        isClosed = true
        if let batchTimer { connection.loop.cancelTimer(batchTimer) }
        batchTimer = nil
        if let expiryTimer { connection.loop.cancelTimer(expiryTimer) }
        batches.removeAll()
        let member = connection.id
        for (documentID, owner) in joined {
            owner.loop.execute { owner.leave(member: member, documentID: documentID) }
        }
        joined.removeAll()
    }

    func webSocket(_ connection: Connection, didReceive message: WebSocketMessage) {
        let bytes: [UInt8]
        switch message {
        case .text(let payload), .binary(let payload): bytes = payload
        default: return
        }
        let receivedMs = clinux_monotonic_ns() / 1_000_000
        guard bucket.take(nowMs: receivedMs) else {
            rateLimitStrikes += 1
            sendError(PresenceError(code: .rateLimited,
                                    message: "more than \(Int(settings.messagesPerSecond)) messages per second; slow down"),
                      documentID: nil, ref: nil, on: connection)
            // A client that keeps sending after the RateLimited error is misbehaving, not bursty.
            if rateLimitStrikes >= Int(settings.messagesPerSecond) {
                connection.close(code: WebSocketCloseCode.policyViolation, reason: "message rate limit exceeded repeatedly")
            }
            return
        }
        rateLimitStrikes = 0
        switch ClientMessageDecoder.decode(bytes, limits: settings.limits) {
        case .failure(let rejection):
            sendError(rejection.error, documentID: rejection.documentID, ref: rejection.ref, on: connection)
        case .success(let decoded):
            handle(decoded, on: connection, receivedMs: receivedMs)
        }
    }

    private func handle(_ decoded: DecodedClientMessage, on connection: Connection, receivedMs: UInt64) {
        let reference = ConnectionReference(connection: connection, loop: connection.loop)
        let ref = decoded.ref
        switch decoded.message {
        case .ping:
            connection.sendFrame(frame(ServerMessageEncoder.pong(timestamp: service.clock.wallMs)))
        case .join(let documentID, let workspaceID, let userID, let name, let avatarURL):
            service.metrics.updates.labels("join").increment()
            if joined[documentID] == nil && joined.count >= settings.maxDocumentsPerConnection {
                let error = PresenceError(code: .invalidMessage, message:
                    "connection already joined \(joined.count) documents, the maximum ([server] max_documents_per_connection); leave one first")
                sendError(error, documentID: documentID, ref: ref, on: connection)
                return
            }
            let identity: UserIdentity
            do throws(PresenceError) {
                identity = try credentials.identity(
                    documentID: documentID, workspaceID: workspaceID, userID: userID, name: name, avatarURL: avatarURL)
            } catch {
                sendError(error, documentID: documentID, ref: ref, on: connection)
                return
            }
            let owner = service.owner(of: documentID)
            joined[documentID] = owner
            owner.loop.execute {
                do throws(PresenceError) {
                    try owner.join(reference, identity: identity, documentID: documentID)
                } catch {
                    ClientSession.replyError(error, documentID: documentID, ref: ref, to: reference, joinFailed: true)
                }
            }
        case .leave(let documentID):
            service.metrics.updates.labels("leave").increment()
            guard let owner = joined.removeValue(forKey: documentID) else {
                sendError(.notJoined(documentID: documentID), documentID: documentID, ref: ref, on: connection)
                return
            }
            owner.loop.execute { owner.leave(member: reference.id, documentID: documentID) }
        case .cursor(let documentID, let cursor, let selection):
            service.metrics.updates.labels("cursor").increment()
            forward(documentID, ref: ref, reference: reference) { room throws(PresenceError) in
                try room.cursor(member: reference.id, cursor: cursor, selection: selection, receivedMonotonicMs: receivedMs)
            }
        case .typing(let documentID, let isTyping):
            service.metrics.updates.labels("typing").increment()
            forward(documentID, ref: ref, reference: reference) { room throws(PresenceError) in
                try room.typing(member: reference.id, isTyping: isTyping)
            }
        case .viewport(let documentID, let viewport):
            service.metrics.updates.labels("viewport").increment()
            forward(documentID, ref: ref, reference: reference) { room throws(PresenceError) in
                try room.viewport(member: reference.id, viewport: viewport)
            }
        case .focus(let documentID, let focused):
            service.metrics.updates.labels("focus").increment()
            forward(documentID, ref: ref, reference: reference) { room throws(PresenceError) in
                try room.focus(member: reference.id, focused: focused)
            }
        }
    }

    /// Runs `body` on the room's loop, replying NotJoined here when this connection never joined.
    private func forward(
        _ documentID: String, ref: PresenceCore.JSONValue?, reference: ConnectionReference,
        _ body: @escaping @Sendable (DocumentRoom) throws(PresenceError) -> Void
    ) {
        guard let owner = joined[documentID] else {
            sendError(.notJoined(documentID: documentID), documentID: documentID, ref: ref, on: reference.connection)
            return
        }
        owner.loop.execute {
            do throws(PresenceError) {
                try owner.update(documentID: documentID, body)
            } catch {
                ClientSession.replyError(error, documentID: documentID, ref: ref, to: reference, joinFailed: false)
            }
        }
    }

    /// Sends an error from a room's loop back on the connection's loop.
    private static func replyError(
        _ error: PresenceError, documentID: String, ref: PresenceCore.JSONValue?, to reference: ConnectionReference,
        joinFailed: Bool
    ) {
        reference.loop.execute {
            guard let session = reference.connection.userData as? ClientSession else { return }
            if joinFailed { session.joined[documentID] = nil }
            session.sendError(error, documentID: documentID, ref: ref, on: reference.connection)
        }
    }

    private func sendError(_ error: PresenceError, documentID: String?, ref: PresenceCore.JSONValue?, on connection: Connection) {
        service.metrics.errors.labels(error.code.rawValue).increment()
        let bytes = ServerMessageEncoder.error(error, documentID: documentID, ref: ref, timestamp: service.clock.wallMs)
        connection.sendFrame(frame(bytes))
    }

    // MARK: - Batched delivery

    /// Delivers one room frame to a batching client. Cursor, viewport and typing events join the
    /// document's batch (the latest per user and kind) until `finishDelivery`. Anything else goes
    /// out at once, after the document's pending batch, so that no event overtakes an earlier one.
    func deliverBatched(_ delivery: Delivery, on connection: Connection) {
        guard !isClosed else { return }
        if delivery.coalesceKey != 0, let event = delivery.event {
            if let index = batches.firstIndex(where: { $0.documentID == delivery.documentID }) {
                batches[index].batch.add(event: event, key: delivery.coalesceKey, cursorReadMs: delivery.cursorReadMs)
            } else {
                var batch = EventBatch()
                batch.add(event: event, key: delivery.coalesceKey, cursorReadMs: delivery.cursorReadMs)
                batches.append((delivery.documentID, batch))
            }
            return
        }
        flushBatch(documentID: delivery.documentID, on: connection)
        if connection.sendFrame(delivery.wire, coalesceKey: 0) {
            service.metrics.framesQueued.increment()
        } else {
            service.metrics.framesDropped.increment()
        }
    }

    /// Ends the hand-over of one room flush. The batches go out now when `batchMs` has passed since
    /// the last ones. Otherwise they wait for the first room flush after that, which comes within
    /// the flush interval while the room is busy, so each batch goes out together with the room's
    /// newest events and no timer runs per client. A timer sends them when no flush comes.
    func finishDelivery(on connection: Connection, nowMs: UInt64) {
        awaitsBatchDecision = false
        guard !isClosed, batches.contains(where: { !$0.batch.isEmpty }) else { return }
        if nowMs &- lastBatchMs >= batchMs {
            sendBatches(on: connection, nowMs: nowMs)
            return
        }
        guard batchTimer == nil else { return }
        let dueMs = lastBatchMs + batchMs + service.live.presence.flushIntervalMs
        batchTimer = connection.loop.scheduleTimer(afterMs: dueMs - nowMs) { [weak self, unowned connection] in
            guard let self else { return }
            self.batchTimer = nil
            self.sendBatches(on: connection, nowMs: self.service.clock.monotonicMs)
        }
    }

    /// Sends every pending batch and starts a new interval, unless a control frame already sent
    /// them all.
    private func sendBatches(on connection: Connection, nowMs: UInt64) {
        if let batchTimer {
            connection.loop.cancelTimer(batchTimer)
            self.batchTimer = nil
        }
        // A document whose batch stayed empty for a whole interval is forgotten, so the list
        // contains only documents that still send events.
        batches.removeAll { $0.batch.isEmpty }
        guard !batches.isEmpty else { return }
        lastBatchMs = nowMs
        for index in batches.indices { send(batchAt: index, on: connection) }
    }

    private func flushBatch(documentID: String, on connection: Connection) {
        guard let index = batches.firstIndex(where: { $0.documentID == documentID }) else { return }
        send(batchAt: index, on: connection)
    }

    /// Sends the batch at `index` when it contains events, keeping its storage for the next interval.
    private func send(batchAt index: Int, on connection: Connection) {
        guard !batches[index].batch.isEmpty else { return }
        let nowMs = service.clock.monotonicMs
        let latency = service.metrics.cursorLatency
        batches[index].batch.forEachCursorReadTime { readMs in latency.observe(Double(nowMs &- readMs) / 1000) }
        let message = batches[index].batch.take(documentID: batches[index].documentID, timestamp: service.clock.wallMs)
        if connection.sendFrame(frame(message)) {
            service.metrics.framesQueued.increment()
        } else {
            service.metrics.framesDropped.increment()
        }
    }

    private func frame(_ payload: [UInt8]) -> [UInt8] {
        WebSocketFrameEncoder.frame(service.binaryFrames ? .binary : .text, payload: payload)
    }
}

/// A token bucket: `ratePerSecond` tokens a second, holding at most `burst`.
struct TokenBucket {
    let ratePerSecond: Double
    let burst: Double
    private var tokens: Double
    private var lastMs: UInt64 = 0

    init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        tokens = burst
    }

    /// Takes one token if there is one.
    mutating func take(nowMs: UInt64) -> Bool {
        if lastMs != 0 {
            tokens = min(burst, tokens + Double(nowMs &- lastMs) * ratePerSecond / 1000)
        }
        lastMs = nowMs
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
