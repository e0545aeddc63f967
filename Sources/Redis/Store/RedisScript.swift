/// A Lua script run with EVALSHA. `RedisShard` loads every script with SCRIPT LOAD on each new
/// connection, before the first EVALSHA. Each script does all the writes of one operation, so a
/// crash or a lost connection leaves nothing half-written.
///
/// The scripts build the key names of `RedisKeys` themselves. Standalone Redis allows that and Redis
/// Cluster does not, so the gateway shards over several servers with `urls` instead.
struct RedisScript: Sendable {
    let name: String
    let source: String
    /// The SHA-1 of `source`, the name Redis gives the cached script.
    let sha: String

    init(name: String, body: String) {
        self.name = name
        source = RedisScript.prelude + body
        sha = SHA1.hexDigest(Array(source.utf8))
    }

    /// Functions shared by the scripts: key names, holder lists and the leave of one user.
    private static let prelude = #"""
        local function usersKey(doc) return 'presence:' .. doc .. ':users' end
        local function nodesKey(doc) return 'presence:' .. doc .. ':nodes' end
        local function workspaceKey(ws) return 'presence:workspace:' .. ws .. ':documents' end
        local function userKey(user) return 'presence:user:' .. user end
        local function channelKey(doc) return 'presence:channel:' .. doc end
        local function membersKey(node) return 'presence:node:' .. node .. ':members' end
        local function memberField(doc, user) return #doc .. ':' .. doc .. user end
        local function splitField(field)
          local colon = string.find(field, ':', 1, true)
          if not colon then return nil end
          local length = tonumber(string.sub(field, 1, colon - 1))
          if not length then return nil end
          return string.sub(field, colon + 1, colon + length), string.sub(field, colon + length + 1)
        end
        local function holds(list, node)
          return list ~= nil and string.find(' ' .. list .. ' ', ' ' .. node .. ' ', 1, true) ~= nil
        end
        local function relay(doc, node, ts, event)
          redis.call('PUBLISH', channelKey(doc),
            '{"node":' .. cjson.encode(node) .. ',"sent_at":' .. ts .. ',"event":' .. event .. '}')
        end
        local function appendEvent(stream, maxlen, kind, user, doc, ws, ts)
          redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'type', kind, 'user_id', user,
            'document_id', doc, 'workspace_id', ws, 'timestamp', ts)
        end
        -- Writes the record of a user that `node` holds. Returns true when the user was not present.
        local function hold(doc, user, ws, json, lastActive, node, ttl, stream, maxlen, ts)
          local joined = redis.call('HSET', usersKey(doc), user, json) == 1
          redis.call('EXPIRE', usersKey(doc), ttl)
          local list = redis.call('HGET', nodesKey(doc), user)
          if not list then
            list = node
          elseif not holds(list, node) then
            list = list .. ' ' .. node
          end
          redis.call('HSET', nodesKey(doc), user, list)
          redis.call('EXPIRE', nodesKey(doc), ttl)
          redis.call('SADD', workspaceKey(ws), doc)
          redis.call('EXPIRE', workspaceKey(ws), ttl)
          redis.call('HSET', userKey(user), doc, lastActive)
          redis.call('EXPIRE', userKey(user), ttl)
          redis.call('HSET', membersKey(node), memberField(doc, user), ws)
          if joined then appendEvent(stream, maxlen, 'joined', user, doc, ws, ts) end
          return joined
        end
        -- Lets `node` go of a user. When no node holds the user any more, the user leaves: the record
        -- and the user's entry for the document go, and when the document empties, its hashes and its
        -- place in the workspace set go too. Returns true when the user left.
        local function release(doc, user, ws, node, stream, maxlen, ts)
          redis.call('HDEL', membersKey(node), memberField(doc, user))
          local list = redis.call('HGET', nodesKey(doc), user)
          local rest = {}
          local held = false
          if list then
            for id in string.gmatch(list, '%S+') do
              if id == node then held = true else rest[#rest + 1] = id end
            end
          end
          if #rest > 0 then
            redis.call('HSET', nodesKey(doc), user, table.concat(rest, ' '))
            return false
          end
          redis.call('HDEL', nodesKey(doc), user)
          local removed = redis.call('HDEL', usersKey(doc), user)
          redis.call('HDEL', userKey(user), doc)
          if redis.call('EXISTS', usersKey(doc)) == 0 then
            redis.call('SREM', workspaceKey(ws), doc)
            redis.call('DEL', nodesKey(doc))
          end
          if removed == 0 and not held then return false end
          appendEvent(stream, maxlen, 'left', user, doc, ws, ts)
          return true
        end
        local function serverTimeMs()
          local time = redis.call('TIME')
          return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        end

        """#

    /// Stores one user's record held by this node. KEYS: stream. ARGV: document, user, workspace,
    /// presence JSON, last activity, TTL seconds, node, stream max length, timestamp.
    /// Returns 1 when the user joined the document, else 0.
    static let store = RedisScript(
        name: "store",
        body: #"""
            local joined = hold(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[7], ARGV[6], KEYS[1], ARGV[8], ARGV[9])
            if joined then return 1 end
            return 0
            """#)

    /// Lets this node go of one user. KEYS: stream. ARGV: document, user, workspace, node, stream
    /// max length, timestamp. Returns 1 when the user left the document, else 0.
    static let remove = RedisScript(
        name: "remove",
        body: #"""
            if release(ARGV[1], ARGV[2], ARGV[3], ARGV[4], KEYS[1], ARGV[5], ARGV[6]) then return 1 end
            return 0
            """#)

    /// Restarts the TTL of a document's keys. ARGV: document, workspace, TTL seconds, node, then the
    /// user ids this node holds there. Returns the ids whose record or holding is missing, which the
    /// node writes again.
    static let refresh = RedisScript(
        name: "refresh",
        body: #"""
            local doc, ws, ttl, node = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
            local missing = {}
            for i = 5, #ARGV do
              local user = ARGV[i]
              if redis.call('HEXISTS', usersKey(doc), user) == 0
                or not holds(redis.call('HGET', nodesKey(doc), user), node) then
                missing[#missing + 1] = user
              else
                redis.call('EXPIRE', userKey(user), ttl)
              end
            end
            redis.call('EXPIRE', usersKey(doc), ttl)
            redis.call('EXPIRE', nodesKey(doc), ttl)
            redis.call('EXPIRE', workspaceKey(ws), ttl)
            return missing
            """#)

    /// Makes Redis match what this node holds in one document after a reconnect, and tells the
    /// other nodes. KEYS: stream. ARGV: document, workspace, node, TTL seconds, stream max length,
    /// timestamp, then (user id, presence JSON, last activity) for each local user. Users the node
    /// held there but no longer has are let go. Publishes `UserJoined` for every local user and
    /// `UserLeft` for every user let go, from this node. Returns the number of users let go.
    static let sync = RedisScript(
        name: "sync",
        body: #"""
            local doc, ws, node, ttl, maxlen, ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
            local keep = {}
            for i = 7, #ARGV, 3 do keep[ARGV[i]] = true end
            local released = 0
            local holders = redis.call('HGETALL', nodesKey(doc))
            for i = 1, #holders, 2 do
              local user = holders[i]
              if not keep[user] and holds(holders[i + 1], node) then
                release(doc, user, ws, node, KEYS[1], maxlen, ts)
                relay(doc, node, ts, '{"UserLeft":' .. cjson.encode(user) .. '}')
                released = released + 1
              end
            end
            for i = 7, #ARGV, 3 do
              hold(doc, ARGV[i], ws, ARGV[i + 1], ARGV[i + 2], node, ttl, KEYS[1], maxlen, ts)
              relay(doc, node, ts, '{"UserJoined":' .. ARGV[i + 1] .. '}')
            end
            return released
            """#)

    /// Lets this node go of every document it holds on this server except the listed ones.
    /// KEYS: stream. ARGV: node, stream max length, timestamp, then the document ids to keep.
    /// Publishes `UserLeft` from this node for each user let go. Returns the number let go.
    static let releaseOthers = RedisScript(
        name: "release_others",
        body: #"""
            local node, maxlen, ts = ARGV[1], ARGV[2], ARGV[3]
            local keep = {}
            for i = 4, #ARGV do keep[ARGV[i]] = true end
            local entries = redis.call('HGETALL', membersKey(node))
            local released = 0
            for i = 1, #entries, 2 do
              local doc, user = splitField(entries[i])
              if doc and not keep[doc] then
                release(doc, user, entries[i + 1], node, KEYS[1], maxlen, ts)
                relay(doc, node, ts, '{"UserLeft":' .. cjson.encode(user) .. '}')
                released = released + 1
              end
            end
            return released
            """#)

    /// Records this node's heartbeat by the server's clock. ARGV: node, TTL seconds of the node's
    /// members hash. Returns {server time ms, 1 when the node was not listed before, then node and
    /// heartbeat pairs for every node}.
    static let heartbeat = RedisScript(
        name: "heartbeat",
        body: #"""
            local now = serverTimeMs()
            local added = redis.call('ZADD', KEYS[1], now, ARGV[1])
            redis.call('EXPIRE', membersKey(ARGV[1]), ARGV[2])
            local result = {now, added}
            local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
            for i = 1, #all do result[#result + 1] = all[i] end
            return result
            """#)

    /// Claims a node whose heartbeat is older than the threshold and removes its users, once: the
    /// claim and the removal are one script, so of two survivors only the first finds the node.
    /// KEYS: node set, stream. ARGV: dead node, staleness threshold ms (0 claims it whatever its
    /// heartbeat), stream max length, timestamp, sweeping node. Publishes `UserLeft` from the dead
    /// node on each document's channel. Returns {0} when the node was not claimed (already swept,
    /// or alive again), else {1, then document and user of each user that left}.
    static let sweep = RedisScript(
        name: "sweep",
        body: #"""
            local dead, threshold, maxlen, ts = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
            local score = redis.call('ZSCORE', KEYS[1], dead)
            if threshold > 0 then
              if not score or tonumber(score) > serverTimeMs() - threshold then return {0} end
            end
            redis.call('ZREM', KEYS[1], dead)
            local entries = redis.call('HGETALL', membersKey(dead))
            local left = {1}
            for i = 1, #entries, 2 do
              local doc, user = splitField(entries[i])
              if doc then
                if release(doc, user, entries[i + 1], dead, KEYS[2], maxlen, ts) then
                  left[#left + 1] = doc
                  left[#left + 1] = user
                end
                relay(doc, dead, ts, '{"UserLeft":' .. cjson.encode(user) .. '}')
              end
            end
            redis.call('DEL', membersKey(dead))
            return left
            """#)

    static let all: [RedisScript] = [store, remove, refresh, sync, releaseOthers, heartbeat, sweep]
}
