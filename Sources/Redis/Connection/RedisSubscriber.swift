import Observability
import Transport

/// What a `RedisSubscriber` reports, on its loop.
protocol RedisSubscriberDelegate: AnyObject {
    /// Redis confirmed the subscription to `channel`: every message published from now on arrives.
    func subscriber(_ subscriber: RedisSubscriber, didSubscribe channel: String)
    func subscriber(_ subscriber: RedisSubscriber, didReceive message: [UInt8], on channel: String)
    /// The pub/sub connection is up; the wanted channels are being subscribed again.
    func subscriberDidConnect(_ subscriber: RedisSubscriber)
    /// The pub/sub connection dropped; messages published until the next `didSubscribe` are lost.
    func subscriberDidDisconnect(_ subscriber: RedisSubscriber)
}

/// The pub/sub connection of one shard, which keeps a set of channels subscribed across reconnects.
///
/// Owned by one event loop. `subscribe` and `unsubscribe` change the wanted set at once and send
/// the command when connected; after a reconnect every wanted channel is subscribed again.
final class RedisSubscriber: RedisConnectionDelegate {
    let connection: RedisConnection
    weak var delegate: RedisSubscriberDelegate?
    /// Channels the owner wants.
    private(set) var wanted: Set<String> = []
    /// Channels Redis confirmed on the current connection.
    private(set) var confirmed: Set<String> = []

    /// Channels per SUBSCRIBE command when resubscribing, to keep each command small.
    private static let channelsPerCommand = 256

    init(connection: RedisConnection) {
        precondition(connection.mode == .subscriber, "a subscriber needs a connection in subscriber mode")
        self.connection = connection
        connection.delegate = self
    }

    func subscribe(_ channel: String) {
        guard wanted.insert(channel).inserted else { return }
        if connection.isConnected {
            connection.send(["SUBSCRIBE", channel])
        }
    }

    func unsubscribe(_ channel: String) {
        guard wanted.remove(channel) != nil else { return }
        confirmed.remove(channel)
        if connection.isConnected {
            connection.send(["UNSUBSCRIBE", channel])
        }
    }

    func isSubscribed(_ channel: String) -> Bool {
        confirmed.contains(channel)
    }

    // MARK: - RedisConnectionDelegate

    func redisConnectionDidConnect(_ connection: RedisConnection) {
        confirmed.removeAll()
        let channels = Array(wanted)
        var start = 0
        while start < channels.count {
            let end = min(start + Self.channelsPerCommand, channels.count)
            connection.send(["SUBSCRIBE"] + channels[start..<end])
            start = end
        }
        delegate?.subscriberDidConnect(self)
    }

    func redisConnectionDidDisconnect(_ connection: RedisConnection) {
        confirmed.removeAll()
        delegate?.subscriberDidDisconnect(self)
    }

    func redisConnection(_ connection: RedisConnection, didReceivePush reply: RedisReply) {
        guard let parts = reply.array, parts.count >= 3, let kind = parts[0].string, let channel = parts[1].string
        else { return }
        switch kind {
        case "message":
            guard case .bulk(let payload) = parts[2] else { return }
            delegate?.subscriber(self, didReceive: payload, on: channel)
        case "subscribe":
            // A confirmation for a channel unsubscribed since the SUBSCRIBE was sent is stale.
            guard wanted.contains(channel) else { return }
            confirmed.insert(channel)
            delegate?.subscriber(self, didSubscribe: channel)
        default:
            break
        }
    }
}
