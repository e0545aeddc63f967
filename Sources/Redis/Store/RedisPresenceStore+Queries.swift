import PresenceCore

extension RedisPresenceStore {
    // MARK: - PresenceStore reads

    /// Reads the document's users from its shard. While the shard is down, returns this node's own
    /// users, which is all the node can vouch for.
    public func documentPresence(
        documentID: String, completion: @escaping @Sendable (Result<[UserPresence], PresenceError>) -> Void
    ) {
        loop.execute { [self] in
            let shard = shard(for: documentID)
            guard shard.commands.isConnected else {
                completion(.success(localPresence(documentID: documentID)))
                return
            }
            shard.commands.send(["HGETALL", RedisKeys.documentUsers(documentID)]) { [weak self] result in
                guard let self else { return }
                do {
                    completion(.success(try Self.decodeUsers(result.get())))
                } catch {
                    completion(.success(self.localPresence(documentID: documentID)))
                }
            }
        }
    }

    /// Lists the workspace's documents with their user counts, from every shard.
    public func activeDocuments(
        workspaceID: String, completion: @escaping @Sendable (Result<[DocumentUserCount], PresenceError>) -> Void
    ) {
        loop.execute { [self] in
            var counts: [String: Int] = [:]
            for (documentID, document) in localDocuments where document.workspaceID == workspaceID {
                counts[documentID] = document.users.count
            }
            gatherFromShards(
                initial: counts,
                query: { shard, done in
                    shard.commands.send(["SMEMBERS", RedisKeys.workspaceDocuments(workspaceID)]) { result in
                        guard case .success(let reply) = result, let members = reply.array?.compactMap(\.string),
                            !members.isEmpty
                        else {
                            done([:])
                            return
                        }
                        var found: [String: Int] = [:]
                        var remaining = members.count
                        for documentID in members {
                            shard.commands.send(["HLEN", RedisKeys.documentUsers(documentID)]) { lengthResult in
                                if case .success(let reply) = lengthResult, let length = reply.integer, length > 0 {
                                    found[documentID] = Int(length)
                                }
                                remaining -= 1
                                if remaining == 0 { done(found) }
                            }
                        }
                    }
                },
                merge: { total, part in total.merge(part) { _, fromRedis in fromRedis } },
                finish: { counts in
                    let result = counts.keys.sorted().map { DocumentUserCount(documentID: $0, userCount: counts[$0]!) }
                    completion(.success(result))
                })
        }
    }

    /// Lists the documents the user is present in, from every shard.
    public func documents(
        userID: String, completion: @escaping @Sendable (Result<[UserDocumentActivity], PresenceError>) -> Void
    ) {
        loop.execute { [self] in
            var activity: [String: UInt64] = [:]
            for (documentID, document) in localDocuments {
                if let presence = document.users[userID] { activity[documentID] = presence.lastActiveAt }
            }
            gatherFromShards(
                initial: activity,
                query: { shard, done in
                    shard.commands.send(["HGETALL", RedisKeys.user(userID)]) { result in
                        var found: [String: UInt64] = [:]
                        if case .success(let reply) = result, let pairs = try? Self.pairs(reply, command: "HGETALL") {
                            for (documentID, text) in pairs {
                                if let value = UInt64(text) { found[documentID] = value }
                            }
                        }
                        done(found)
                    }
                },
                merge: { total, part in total.merge(part) { local, fromRedis in max(local, fromRedis) } },
                finish: { activity in
                    let result = activity.keys.sorted().map {
                        UserDocumentActivity(documentID: $0, lastActiveAt: activity[$0]!)
                    }
                    completion(.success(result))
                })
        }
    }

    /// Runs `query` on every connected shard and merges the parts into `initial`, which holds this
    /// node's own records so that an unreachable shard still shows them.
    private func gatherFromShards<Part>(
        initial: Part, query: (RedisShard, @escaping (Part) -> Void) -> Void, merge: @escaping (inout Part, Part) -> Void,
        finish: @escaping (Part) -> Void
    ) {
        let connected = shards.filter { $0.commands.isConnected }
        guard !connected.isEmpty else {
            finish(initial)
            return
        }
        var total = initial
        var remaining = connected.count
        for shard in connected {
            query(shard) { part in
                merge(&total, part)
                remaining -= 1
                if remaining == 0 { finish(total) }
            }
        }
    }

    func localPresence(documentID: String) -> [UserPresence] {
        let users = localDocuments[documentID]?.users.values.map { $0 } ?? []
        return users.sorted { ($0.connectedAt, $0.userID) < ($1.connectedAt, $1.userID) }
    }
}
