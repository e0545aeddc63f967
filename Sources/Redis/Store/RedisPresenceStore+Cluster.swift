import CLinux
import Observability
import PresenceCore

extension RedisPresenceStore {
    // MARK: - Write-back

    /// Writes this node's presence on `shard` back after a connect: every local document with its
    /// users, then the release of documents this node held there but has left meanwhile, then a
    /// heartbeat. The heartbeat comes last so that a node that sees it fresh can trust this node's
    /// holdings. Writes made from now on follow in order.
    func writeBack(_ shard: RedisShard) {
        let documentIDs = localDocuments.keys.filter { ring.server(for: $0) == shard.index }
        for documentID in documentIDs {
            sync(documentID: documentID, on: shard)
        }
        shard.run(
            .releaseOthers, keys: [configuration.stream],
            arguments: [nodeID, String(configuration.streamMaxLength), Self.wallMsText] + documentIDs
        ) { [weak self] result in
            if case .success(let reply) = result, let released = reply.integer, released > 0 {
                self?.logger.info(
                    "released users that left this node while Redis was unreachable",
                    metadata: ["users.count": "\(released)"])
            }
        }
        shard.isReady = true
        shard.dirtyDocuments.removeAll()
        heartbeat(on: shard) { [weak self] in
            guard let self else { return }
            self.logger.info(
                "wrote this node's presence back to Redis",
                metadata: ["redis.shard": "\(shard.index)", "documents.count": "\(documentIDs.count)"])
            self.delegate?.presenceStore(self, didResynchronize: documentIDs)
        }
    }

    /// Writes one document again from the local copy, for a record Redis lost or a failed write.
    func resynchronize(documentID: String, on shard: RedisShard) {
        guard shard.isReady else { return }
        sync(documentID: documentID, on: shard)
    }

    private func sync(documentID: String, on shard: RedisShard) {
        let document = localDocuments[documentID]
        var arguments = [
            documentID, document?.workspaceID ?? "", nodeID, String(configuration.presenceTTLSeconds),
            String(configuration.streamMaxLength), Self.wallMsText,
        ]
        if let document {
            for presence in document.users.values.sorted(by: { $0.userID < $1.userID }) {
                arguments.append(presence.userID)
                arguments.append(String(decoding: ServerMessageEncoder.encode(presence), as: UTF8.self))
                arguments.append(String(presence.lastActiveAt))
            }
        } else {
            // Without local users the workspace is unknown, so only the release path runs.
            shard.run(
                .releaseOthers, keys: [configuration.stream],
                arguments: [nodeID, String(configuration.streamMaxLength), Self.wallMsText]
                    + localDocuments.keys.filter { ring.server(for: $0) == shard.index }
            ) { [weak shard] result in
                if case .failure(let error) = result, error.isMissingScript { shard?.dirtyDocuments.insert(documentID) }
            }
            return
        }
        shard.run(.sync, keys: [configuration.stream], arguments: arguments) { [weak self, weak shard] result in
            guard let self, let shard, case .failure(let error) = result else { return }
            if case .overloaded = error { shard.dirtyDocuments.insert(documentID) }
            if error.isMissingScript { shard.dirtyDocuments.insert(documentID) }
            self.logger.log(
                .warning, "writing a document's presence back to Redis failed",
                metadata: ["document.id": documentID, "error": "\(error)"], limitedBy: Self.writeLogLimiter,
                key: "redis.sync")
        }
    }

    // MARK: - Heartbeats and the sweeper

    /// Runs the heartbeat and the check of the other nodes twice per heartbeat interval.
    func scheduleHeartbeat() {
        let intervalMs = max(1, configuration.heartbeatIntervalMs / 2)
        heartbeatTimerID = loop.scheduleTimer(afterMs: intervalMs) { [weak self] in
            guard let self else { return }
            self.heartbeatTimerID = nil
            for shard in self.shards where shard.isReady {
                for documentID in shard.dirtyDocuments.sorted() {
                    self.resynchronize(documentID: documentID, on: shard)
                }
                shard.dirtyDocuments.removeAll()
                self.heartbeat(on: shard, then: nil)
            }
            self.scheduleHeartbeat()
        }
    }

    /// Writes this node's heartbeat on `shard`, reads everyone else's, and sweeps the nodes whose
    /// heartbeat is older than the staleness threshold.
    func heartbeat(on shard: RedisShard, then completion: (() -> Void)?) {
        shard.run(
            .heartbeat, keys: [RedisKeys.nodes],
            arguments: [nodeID, String(RedisStoreConfiguration.nodeMembersTTLSeconds)]
        ) { [weak self, weak shard] result in
            guard let self, let shard else { return }
            guard case .success(let reply) = result, let parts = reply.array, parts.count >= 2,
                let nowMs = parts[0].integer, let added = parts[1].integer
            else {
                if case .failure(let error) = result {
                    self.logger.log(
                        .warning, "the heartbeat to Redis failed", metadata: ["error": "\(error)"],
                        limitedBy: Self.writeLogLimiter, key: "redis.heartbeat")
                }
                completion?()
                return
            }
            let wasFirst = shard.awaitingFirstHeartbeat
            shard.awaitingFirstHeartbeat = false
            if added == 1, !wasFirst {
                // This node was missing from the node set: a survivor declared it dead, or Redis
                // lost its data. Its users were removed, so write them back.
                self.logger.warning(
                    "this node's heartbeat was missing in Redis; writing its presence back",
                    metadata: ["redis.shard": "\(shard.index)"])
                self.writeBack(shard)
            }
            var nodes: [String: UInt64] = [:]
            var index = 2
            while index + 1 < parts.count {
                if let node = parts[index].string, let score = parts[index + 1].string.flatMap(UInt64.init) {
                    nodes[node] = score
                }
                index += 2
            }
            self.heartbeats[shard.index] = nodes
            self.sweepStaleNodes(on: shard, nodes: nodes, nowMs: UInt64(max(0, nowMs)))
            self.publishLiveNodes()
            completion?()
        }
    }

    private func sweepStaleNodes(on shard: RedisShard, nodes: [String: UInt64], nowMs: UInt64) {
        let threshold = configuration.stalenessThresholdMs
        for (node, heartbeatMs) in nodes where node != nodeID && heartbeatMs + threshold < nowMs {
            shard.run(
                .sweep, keys: [RedisKeys.nodes, configuration.stream],
                arguments: [node, String(threshold), String(configuration.streamMaxLength), Self.wallMsText, nodeID]
            ) { [weak self] result in
                // {0} means another survivor claimed the node first, or it heartbeated again.
                guard let self, case .success(let reply) = result, let parts = reply.array,
                    parts.first?.integer == 1
                else { return }
                let leftCount = (parts.count - 1) / 2
                self.metrics.sweptUsers.labels().increment(by: UInt64(leftCount))
                self.logger.notice(
                    "removed the users of a node that stopped heartbeating",
                    metadata: [
                        "dead_node.id": node, "users.count": "\(leftCount)",
                        "heartbeat.age_ms": "\(nowMs - heartbeatMs)",
                    ])
            }
        }
    }

    private func publishLiveNodes() {
        let threshold = configuration.stalenessThresholdMs
        var live: Set<String> = [nodeID]
        for nodes in heartbeats {
            let newest = nodes.values.max() ?? 0
            for (node, heartbeatMs) in nodes where heartbeatMs + threshold >= newest {
                live.insert(node)
            }
        }
        guard live != lastLiveNodes else { return }
        lastLiveNodes = live
        delegate?.presenceStore(self, liveNodesChanged: live)
    }
}
